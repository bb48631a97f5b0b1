# frozen_string_literal: true

module Blog
  # The Rack app: HTML pages rendered with ERB, a JSON API, and static files.
  class App
    PER_PAGE = 4
    STATIC_TYPES = {
      ".css" => "text/css; charset=utf-8",
      ".txt" => "text/plain; charset=utf-8",
      ".svg" => "image/svg+xml"
    }.freeze

    # A response with a status other than 200, raised from a handler.
    class Halt < StandardError
      attr_reader :status

      def initialize(status, message)
        super(message)
        @status = status
      end
    end

    def initialize(site:, store:, views:, public_dir:)
      @site = site
      @store = store
      @views = views
      @public_dir = public_dir
      @booted_at = Time.now.utc
      @served = 0
      @router = build_router
    end

    def call(env)
      @served += 1
      request_id = env["HTTP_X_REQUEST_ID"] || SecureRandom.hex(8)
      match = @router.match(env["REQUEST_METHOD"], env["PATH_INFO"])
      status, headers, body =
        if match.nil?
          not_found(env)
        elsif match.handler.nil?
          error(405, "Method not allowed", env, "allow" => match.allowed.to_a.sort.join(", "))
        else
          instance_exec(env, match.params, &match.handler)
        end
      headers["x-request-id"] = request_id
      body = [] if env["REQUEST_METHOD"] == "HEAD"
      [status, headers, body]
    rescue Halt => e
      error(e.status, e.message, env, "x-request-id" => request_id)
    end

    private

    def build_router
      Router.new.tap do |r|
        r.get("/") { |env, _| index(env) }
        r.get("/posts/:slug") { |env, p| show(env, p[:slug]) }
        r.get("/tags/:tag") { |env, p| tag(env, p[:tag]) }
        r.get("/archive") { |env, _| archive(env) }
        r.get("/about") { |env, _| about(env) }
        r.get("/search") { |env, _| search_page(env) }
        r.get("/feed.json") { |env, _| feed(env) }
        r.get("/api/posts") { |env, _| api_posts(env) }
        r.get("/api/posts/:slug") { |env, p| api_post(env, p[:slug]) }
        r.get("/api/tags") { |env, _| json(200, tags: @store.tag_counts.map { |t, n| { tag: t, posts: n } }) }
        r.get("/api/search") { |env, _| api_search(env) }
        r.get("/api/stats") { |env, _| api_stats(env) }
        r.post("/api/preview") { |env, _| api_preview(env) }
        r.get("/static/:file") { |env, p| static(env, p[:file]) }
        r.get("/healthz") { |_env, _| [200, { "content-type" => "text/plain" }, ["ok\n"]] }
      end
    end

    def query(env)
      URI.decode_www_form(env["QUERY_STRING"].to_s).to_h
    rescue ArgumentError
      raise Halt.new(400, "Malformed query string")
    end

    def html(status, name, title:, **locals)
      body = @views.render(name, site: @site, title: title, **locals)
      [status, { "content-type" => "text/html; charset=utf-8",
                 "last-modified" => @store.last_modified.httpdate }, [body]]
    end

    def json(status, data)
      [status, { "content-type" => "application/json" }, [JSON.generate(data)]]
    end

    def api?(env) = env["PATH_INFO"].start_with?("/api/")

    def error(status, message, env, extra = {})
      if api?(env)
        s, h, b = json(status, error: message, status: status)
      else
        s, h, b = html(status, :error, title: message, status: status, message: message)
      end
      [s, h.merge(extra), b]
    end

    def not_found(env)
      error(404, "Not found: #{env["PATH_INFO"]}", env)
    end

    def index(env)
      number = query(env).fetch("page", "1").to_i
      posts, number, pages = @store.page(number, PER_PAGE)
      html(200, :index, title: @site[:title], posts: posts, page: number, pages: pages,
                        tags: @store.tag_counts)
    end

    def show(env, slug)
      post = @store.find(slug) or return not_found(env)
      newer, older = @store.neighbours(post)
      html(200, :post, title: post.title, post: post, newer: newer, older: older)
    end

    def tag(env, tag)
      posts = @store.tagged(tag)
      return not_found(env) if posts.empty?

      html(200, :tag, title: "Posts tagged #{tag}", tag: tag, posts: posts)
    end

    def archive(_env)
      html(200, :archive, title: "Archive", years: @store.archive)
    end

    def about(_env)
      html(200, :about, title: "About", post_count: @store.size, tags: @store.tags,
                        ruby: "#{RUBY_VERSION} (#{RUBY_PLATFORM})")
    end

    def search_page(env)
      q = query(env).fetch("q", "").strip
      html(200, :search, title: q.empty? ? "Search" : "Search: #{q}", q: q, posts: @store.search(q))
    end

    def feed(_env)
      items = @store.first(10).map do |p|
        { id: p.slug, url: "#{@site[:url]}#{p.path}", title: p.title, content_html: p.html,
          summary: p.summary, date_published: p.published_at.utc.iso8601, tags: p.tags.to_a.sort }
      end
      [200, { "content-type" => "application/feed+json" },
       [JSON.pretty_generate(version: "https://jsonfeed.org/version/1.1", title: @site[:title],
                             home_page_url: @site[:url], feed_url: "#{@site[:url]}/feed.json", items: items)]]
    end

    def api_posts(env)
      q = query(env)
      posts = q["tag"] ? @store.tagged(q["tag"]) : @store.to_a
      limit = q.fetch("limit", "20").to_i.clamp(1, 100)
      json(200, count: posts.size, posts: posts.first(limit).map(&:to_h))
    end

    def api_post(env, slug)
      post = @store.find(slug) or return error(404, "No post #{slug}", env)
      json(200, post.to_h(full: true))
    end

    def api_search(env)
      q = query(env).fetch("q", "")
      raise Halt.new(400, "Missing q parameter") if q.strip.empty?

      results = @store.search(q)
      json(200, query: q, count: results.size, results: results.map(&:to_h))
    end

    def api_stats(_env)
      json(200, posts: @store.size, tags: @store.tags.size, served: @served,
                booted_at: @booted_at.iso8601, now: Time.now.utc.iso8601,
                words: @store.sum(&:words))
    end

    def api_preview(env)
      raw = env["rack.input"].read
      data = JSON.parse(raw)
      raise Halt.new(422, "Body must be a JSON object with a markdown string") unless data.is_a?(Hash) && data["markdown"].is_a?(String)

      json(200, html: Markdown.render(data["markdown"]), words: Markdown.plain(data["markdown"]).split.size)
    rescue JSON::ParserError => e
      raise Halt.new(400, "Invalid JSON: #{e.message.lines.first.strip}")
    end

    def static(env, file)
      ext = File.extname(file)
      type = STATIC_TYPES[ext]
      path = File.join(@public_dir, File.basename(file))
      return not_found(env) unless type && File.file?(path)

      [200, { "content-type" => type, "cache-control" => "public, max-age=3600" }, [File.binread(path)]]
    end
  end
end
