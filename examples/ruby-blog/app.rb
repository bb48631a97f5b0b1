# frozen_string_literal: true

# Entry point of the Thaw ruby-blog example: a Rack app (call(env) -> [status, headers, body])
# with no rack gem. The Thaw Rack runner evaluates this file once at boot; `run` names the app.

require "erb"
require "json"
require "set"
require "uri"
require "time"
require "cgi"
require "securerandom"

require_relative "lib/blog/markdown"
require_relative "lib/blog/post"
require_relative "lib/blog/store"
require_relative "lib/blog/router"
require_relative "lib/blog/views"
require_relative "lib/blog/app"

ROOT = __dir__

site = JSON.parse(File.read(File.join(ROOT, "data", "site.json")), symbolize_names: true)
store = Blog::Store.load(File.join(ROOT, "data", "posts"))
views = Blog::Views.new(File.join(ROOT, "views"))

run Blog::App.new(site: site, store: store, views: views, public_dir: File.join(ROOT, "public"))
