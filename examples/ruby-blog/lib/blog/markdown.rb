# frozen_string_literal: true

module Blog
  # A small Markdown subset: headings, paragraphs, fenced code, lists, block quotes,
  # emphasis, inline code and links. Everything is HTML-escaped first.
  module Markdown
    module_function

    def render(text)
      html = []
      lines = text.gsub("\r\n", "\n").split("\n")
      until lines.empty?
        line = lines.shift
        case line
        when /\A```(\w*)\s*\z/
          lang = Regexp.last_match(1)
          code = []
          code << lines.shift while lines.any? && !lines.first.start_with?("```")
          lines.shift
          klass = lang.empty? ? "" : %( class="language-#{lang}")
          html << "<pre><code#{klass}>#{CGI.escapeHTML(code.join("\n"))}</code></pre>"
        when /\A(\#{1,4})\s+(.*)\z/
          level = Regexp.last_match(1).size + 1
          title = Regexp.last_match(2)
          html << %(<h#{level} id="#{slugify(title)}">#{inline(title)}</h#{level}>)
        when /\A[-*]\s+/
          items = [line]
          items << lines.shift while lines.any? && lines.first.match?(/\A[-*]\s+/)
          html << "<ul>" + items.map { |i| "<li>#{inline(i.sub(/\A[-*]\s+/, ""))}</li>" }.join + "</ul>"
        when /\A\d+\.\s+/
          items = [line]
          items << lines.shift while lines.any? && lines.first.match?(/\A\d+\.\s+/)
          html << "<ol>" + items.map { |i| "<li>#{inline(i.sub(/\A\d+\.\s+/, ""))}</li>" }.join + "</ol>"
        when /\A>\s?/
          quote = [line]
          quote << lines.shift while lines.any? && lines.first.start_with?(">")
          html << "<blockquote><p>#{inline(quote.map { |q| q.sub(/\A>\s?/, "") }.join(" "))}</p></blockquote>"
        when /\A\s*\z/
          next
        else
          para = [line]
          para << lines.shift while lines.any? && !lines.first.strip.empty? && !block_start?(lines.first)
          html << "<p>#{inline(para.join(" "))}</p>"
        end
      end
      html.join("\n")
    end

    def block_start?(line)
      line.match?(/\A(```|\#{1,4}\s|[-*]\s|\d+\.\s|>)/)
    end

    def inline(text)
      out = CGI.escapeHTML(text)
      out = out.gsub(/`([^`]+)`/) { "<code>#{Regexp.last_match(1)}</code>" }
      out = out.gsub(/\*\*([^*]+)\*\*/) { "<strong>#{Regexp.last_match(1)}</strong>" }
      out = out.gsub(/\*([^*]+)\*/) { "<em>#{Regexp.last_match(1)}</em>" }
      out = out.gsub(/(?<![\w])_([^_]+)_(?![\w])/) { "<em>#{Regexp.last_match(1)}</em>" }
      out.gsub(/\[([^\]]+)\]\(([^)\s]+)\)/) do
        label = Regexp.last_match(1)
        href = Regexp.last_match(2)
        safe = href.match?(%r{\A(https?://|/|#)}) ? href : "#"
        %(<a href="#{safe}">#{label}</a>)
      end
    end

    def slugify(text)
      text.downcase.gsub(/[^a-z0-9]+/, "-").gsub(/\A-|-\z/, "")
    end

    # Plain text of a Markdown document, for summaries and search.
    def plain(text)
      text.gsub(/```.*?```/m, " ").gsub(/[#*`>\[\]]/, "").gsub(/\(([^)]*)\)/, "").squeeze(" ").strip
    end
  end
end
