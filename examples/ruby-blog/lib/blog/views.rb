# frozen_string_literal: true

module Blog
  # ERB templates, compiled once at boot. Each page renders inside layout.erb.
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

      def get_binding = binding
    end

    def initialize(dir)
      @templates = Dir.children(dir).select { |f| f.end_with?(".erb") }.to_h do |file|
        erb = ERB.new(File.read(File.join(dir, file), encoding: "UTF-8"), trim_mode: "-")
        erb.filename = File.join(dir, file)
        [File.basename(file, ".erb").to_sym, erb]
      end
      raise ArgumentError, "#{dir} has no layout.erb" unless @templates.key?(:layout)
    end

    def names = @templates.keys

    def render(name, site:, title:, **locals)
      template = @templates.fetch(name) { raise ArgumentError, "no template #{name}.erb" }
      content = template.result(Context.new(site, locals).get_binding)
      @templates[:layout].result(Context.new(site, title: title, content: content, **locals).get_binding)
    end
  end
end
