# frozen_string_literal: true

module Blog
  # One post, read from a data file: front matter of "key: value" lines between two "---"
  # lines (the shape deno fmt and most Markdown tools keep), then the Markdown body.
  class Post
    class FormatError < StandardError; end

    attr_reader :slug, :title, :published_at, :tags, :summary, :body, :author

    def self.parse(slug, source)
      match = source.match(/\A---\s*\n(.*?)^---\s*\n?(.*)\z/m)
      raise FormatError, "#{slug}: expected front matter between --- lines" unless match

      head, body = match.captures
      meta = {}
      head.each_line do |line|
        next if line.strip.empty?

        key, value = line.split(":", 2)
        raise FormatError, "#{slug}: front matter line #{line.inspect} is not key: value" unless value

        meta[key.strip.downcase.to_sym] = value.strip
      end
      %i[title date].each do |key|
        raise FormatError, "#{slug}: front matter needs #{key}" unless meta[key]
      end
      new(
        slug: slug,
        title: meta[:title],
        published_at: Time.iso8601(meta[:date]),
        tags: Set.new(meta.fetch(:tags, "").split(",").map { |t| t.strip.downcase }.reject(&:empty?)),
        summary: meta[:summary],
        author: meta.fetch(:author, "The Thaw team"),
        body: body
      )
    end

    def initialize(slug:, title:, published_at:, tags:, summary:, author:, body:)
      @slug = slug
      @title = title
      @published_at = published_at
      @tags = tags
      @author = author
      @body = body
      @summary = summary || Markdown.plain(body)[0, 160]
      @html = nil
    end

    def html
      @html ||= Markdown.render(body)
    end

    def words
      @words ||= Markdown.plain(body).split(/\s+/).size
    end

    def reading_minutes
      [(words / 200.0).ceil, 1].max
    end

    def path
      "/posts/#{URI.encode_www_form_component(slug)}"
    end

    def date_label
      published_at.utc.strftime("%B %-d, %Y")
    end

    def matches?(terms)
      haystack = "#{title} #{summary} #{tags.to_a.join(" ")} #{Markdown.plain(body)}".downcase
      terms.all? { |t| haystack.include?(t) }
    end

    def to_h(full: false)
      h = {
        slug: slug,
        title: title,
        url: path,
        published_at: published_at.utc.iso8601,
        author: author,
        tags: tags.to_a.sort,
        summary: summary,
        reading_minutes: reading_minutes
      }
      full ? h.merge(body_markdown: body, body_html: html) : h
    end
  end
end
