# frozen_string_literal: true

module Blog
  # Maps "GET /posts/:slug" style patterns to handlers; :name captures one path segment.
  class Router
    Route = Struct.new(:verb, :pattern, :names, :handler)
    Match = Struct.new(:handler, :params, :allowed)

    def initialize
      @routes = []
    end

    def get(path, &handler) = add("GET", path, handler)
    def post(path, &handler) = add("POST", path, handler)

    def add(verb, path, handler)
      names = []
      source = path.split("/", -1).map do |seg|
        if seg.start_with?(":")
          names << seg[1..].to_sym
          "([^/]+)"
        else
          Regexp.escape(seg)
        end
      end.join("/")
      @routes << Route.new(verb, /\A#{source}\z/, names, handler)
    end

    # Finds the handler for a request. A path that exists under another verb gives the allowed
    # verbs, for a 405.
    def match(verb, path)
      allowed = Set.new
      @routes.each do |route|
        m = route.pattern.match(path)
        next unless m

        if route.verb == verb || (verb == "HEAD" && route.verb == "GET")
          params = route.names.zip(m.captures.map { |c| URI.decode_www_form_component(c) }).to_h
          return Match.new(route.handler, params, nil)
        end
        allowed << route.verb
      end
      allowed.empty? ? nil : Match.new(nil, {}, allowed)
    end
  end
end
