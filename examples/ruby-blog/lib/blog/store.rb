# frozen_string_literal: true

module Blog
  # All posts, loaded once at boot from the package's data directory and indexed.
  class Store
    include Enumerable

    def self.load(dir)
      files = Dir.children(dir).select { |f| f.end_with?(".md") }.sort
      posts = files.map do |file|
        Post.parse(File.basename(file, ".md"), File.read(File.join(dir, file), encoding: "UTF-8"))
      end
      new(posts)
    end

    def initialize(posts)
      @posts = posts.sort_by { |p| [-p.published_at.to_i, p.slug] }.freeze
      @by_slug = @posts.to_h { |p| [p.slug, p] }
      @by_tag = Hash.new { |h, k| h[k] = [] }
      @posts.each { |p| p.tags.each { |t| @by_tag[t] << p } }
      @by_tag.default_proc = nil
    end

    def each(&block)
      @posts.each(&block)
    end

    def size
      @posts.size
    end

    def find(slug)
      @by_slug[slug]
    end

    def tagged(tag)
      @by_tag.fetch(tag.downcase, [])
    end

    def tags
      @by_tag.keys.to_set
    end

    def tag_counts
      @by_tag.map { |tag, posts| [tag, posts.size] }.sort_by { |tag, n| [-n, tag] }
    end

    def page(number, per_page)
      pages = [(size + per_page - 1) / per_page, 1].max
      number = number.clamp(1, pages)
      [@posts.slice((number - 1) * per_page, per_page) || [], number, pages]
    end

    def search(query)
      terms = query.downcase.split(/\s+/).reject(&:empty?)
      return [] if terms.empty?

      @posts.select { |p| p.matches?(terms) }
    end

    def archive
      @posts.group_by { |p| p.published_at.utc.strftime("%Y") }
    end

    def neighbours(post)
      i = @posts.index(post)
      [i.positive? ? @posts[i - 1] : nil, @posts[i + 1]]
    end

    def last_modified
      @posts.map(&:published_at).max || Time.at(0)
    end
  end
end
