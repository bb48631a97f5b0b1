# frozen_string_literal: true

module Blog
  # ERB templates, compiled once at boot into methods of Context, so a request runs compiled
  # Ruby instead of evaluating template source again. Each page renders inside layout.erb.
  class Views
    # What templates see as self: the locals passed in, plus helpers.
    class Context
      def initialize(site, locals)
        @site = site
        locals.each { |k, v| instance_variable_set(:"@#{k}", v) }
      end

      def h(text) = CGI.escapeHTML(text.to_s)
      def u(text) = URI.encode_www_form_component(text.to_s)
      def tag_path(tag) = "/tags/#{u(tag)}"

      def plural(n, word) = n == 1 ? "1 #{word}" : "#{n} #{word}s"
    end

    def initialize(dir)
      @names = Dir.children(dir).select { |f| f.end_with?(".erb") }.map do |file|
        path = File.join(dir, file)
        erb = ERB.new(File.read(path, encoding: "UTF-8"), trim_mode: "-")
        name = File.basename(file, ".erb").to_sym
        erb.def_method(Context, "render_#{name}()", path)
        name
      end
      raise ArgumentError, "#{dir} has no layout.erb" unless @names.include?(:layout)
    end

    attr_reader :names

    def render(name, site:, title:, **locals)
      raise ArgumentError, "no template #{name}.erb" unless @names.include?(name)

      content = Context.new(site, locals).public_send(:"render_#{name}")
      Context.new(site, title: title, content: content, **locals).render_layout
    end
  end
end
