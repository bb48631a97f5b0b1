/**
 * The Ruby half of the Rack runner, evaluated once after `ruby-init`: it loads the app file,
 * then serves one request per `Thaw::Rack.serve` call.
 *
 * Wire format (host to guest, on fd 0): `[meta_len u32 LE][body_len u32 LE] meta body`, where
 * meta is NUL-separated: method, path, query, server name, server port, url scheme, then header
 * name/value pairs (names lower-case, as fetch gives them).
 *
 * Wire format (guest to host, on fd 1), a sequence of frames `[tag u8][len u32 LE] payload`:
 * `H` status and headers (NUL-separated: status, name, value, ...), `B` one body chunk, `E` end
 * of response, `X` the app raised after the head was sent (payload: the message).
 *
 * Everything the app prints to `$stdout` or `STDOUT` goes to stderr, so it cannot corrupt the
 * frames.
 *
 * @module
 */

/** Guest path where the app's package is mounted read-only. */
export const APP_MOUNT = "/app";
/** argv given to `ruby-init`. */
export const RUBY_ARGS = ["ruby.wasm", "-EUTF-8", "-e_=0"] as const;

/** Ruby source of the runner's guest half. */
export const RACK_PRELUDE = String.raw`
require "stringio"

module Thaw
  module Rack
    IN = IO.for_fd(0, "rb", autoclose: false)
    OUT = IO.for_fd(1, "wb", autoclose: false)
    OUT.sync = true
    # App output goes to the log: fd 1 carries only the runner's frames.
    $stdout = $stderr
    Object.send(:remove_const, :STDOUT)
    ::STDOUT = $stderr

    # Raised when the app file does not produce a Rack app.
    class AppError < StandardError; end

    # What a config.ru-style app file calls: "run MyApp".
    module DSL
      def run(app)
        Thaw::Rack.app = app
      end
    end

    # The stream handed to a Rack 3 streaming body (one that responds to #call).
    class Stream
      def initialize(out) = @out = out
      def write(chunk)
        Thaw::Rack.frame("B", chunk.to_s)
        chunk.to_s.bytesize
      end
      alias << write
      def flush = self
      def close = nil
      def close_write = nil
      def closed? = false
      def read(*) = nil
    end

    class << self
      attr_accessor :app

      def packed(tag, payload)
        payload = payload.b
        tag + [payload.bytesize].pack("V") + payload
      end

      def frame(tag, payload)
        OUT.write(packed(tag, payload))
      end

      def load_app(path)
        main = TOPLEVEL_BINDING.receiver
        main.extend(DSL)
        value = TOPLEVEL_BINDING.eval(File.read(path), path, 1)
        self.app ||= value if value.respond_to?(:call)
        self.app ||= Object.const_get(:App) if Object.const_defined?(:App)
        unless app.respond_to?(:call)
          raise AppError, "#{path} defined no Rack app: end it with run(app), or define App " \
            "responding to call(env)"
        end
        app
      end

      def read_exact(n)
        return +"" if n.zero?
        data = IN.read(n)
        raise IOError, "Request truncated: wanted #{n} bytes" if data.nil? || data.bytesize != n
        data
      end

      def env_for(meta, body)
        method, path, query, host, port, scheme, *headers = meta
        env = {
          "REQUEST_METHOD" => method,
          "SCRIPT_NAME" => "",
          "PATH_INFO" => path,
          "QUERY_STRING" => query,
          "SERVER_NAME" => host,
          "SERVER_PORT" => port,
          "SERVER_PROTOCOL" => "HTTP/1.1",
          "rack.url_scheme" => scheme,
          "rack.input" => StringIO.new(body),
          "rack.errors" => $stderr,
          "rack.multithread" => false,
          "rack.multiprocess" => true,
          "rack.run_once" => false,
          "rack.hijack?" => false,
          "rack.response_finished" => [],
        }
        headers.each_slice(2) do |name, value|
          key = name.upcase.tr("-", "_")
          key = "HTTP_#{key}" unless key == "CONTENT_TYPE" || key == "CONTENT_LENGTH"
          env[key] = env.key?(key) ? "#{env[key]}, #{value}" : value
        end
        env
      end

      def head_payload(status, headers)
        parts = [status.to_i.to_s]
        headers.each do |name, value|
          values = value.is_a?(Array) ? value : value.to_s.split("\n")
          values.each { |v| parts << name.to_s << v.to_s }
        end
        parts.join("\0")
      end

      def serve
        lens = read_exact(8).unpack("VV")
        meta = read_exact(lens[0]).force_encoding(Encoding::BINARY).split("\0", -1)
        body = read_exact(lens[1]).force_encoding(Encoding::BINARY)
        env = env_for(meta, body)
        head_sent = false
        begin
          status, headers, rbody = app.call(env)
          head = head_payload(status, headers)
          if rbody.is_a?(Array)
            # The common case: head, body and end in one write.
            out = packed("H", head)
            rbody.each { |chunk| out << packed("B", chunk.to_s) unless chunk.to_s.empty? }
            OUT.write(out << packed("E", ""))
            return nil
          end
          frame("H", head)
          head_sent = true
          if rbody.respond_to?(:each)
            rbody.each { |chunk| frame("B", chunk.to_s) unless chunk.to_s.empty? }
          elsif rbody.respond_to?(:call)
            rbody.call(Stream.new(OUT))
          elsif rbody.respond_to?(:to_str)
            frame("B", rbody.to_str)
          end
          frame("E", "")
        rescue Exception => e
          $stderr.puts(e.full_message(highlight: false))
          if head_sent
            frame("X", "#{e.class}: #{e.message}")
          else
            frame("H", "500\0content-type\0text/plain; charset=utf-8")
            frame("B", "Internal Server Error: #{e.class}: #{e.message}\n")
            frame("E", "")
          end
        ensure
          rbody.close if rbody.respond_to?(:close)
          env["rack.response_finished"].each do |cb|
            cb.call(env, status, headers, nil)
          rescue Exception => e
            $stderr.puts(e.full_message(highlight: false))
          end
        end
        nil
      end
    end
  end
end
nil
`;
