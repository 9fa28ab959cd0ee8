// response_fuzz: bytes from a "server" through the real http::client code path — a plain-HTTP fetch
// from a 127.0.0.1 acceptor owned by this target — so the client's head and body handling, Beast's
// chunked decoding and the header/body limits all see the fuzzed reply.
//
// Input: 4 control bytes, then the server's reply.
//   byte 0: bits 0-1 writes the reply is split into (1, 2, 3, 3), bits 2-3 max_header_bytes
//           (256, 1 KiB, 8 KiB, 64 KiB), bits 4-5 max_body_bytes (16, 300, 64 KiB, none), bit 6 HEAD
//           instead of GET, bit 7 on_body_paced (resumed later, from a posted handler) instead of on_body
//   bytes 1, 2: where the reply is split (fractions of its length, /256)
//   byte 3: bits 0-1 body_chunk_bytes (1, 7, 64, 16 KiB)
// The server reads the request head, writes the reply in those pieces, shuts its sending side down and
// reads until the client closes. Redirects are not followed (a Location could point at any port).
//
// Invariants (else __builtin_trap): the completion runs exactly once; on_response at most once, before
// any body byte, with the status transfer_info reports; success implies a status in 100..999 and a
// head; body bytes delivered == transfer_info::body_bytes; a success delivered at most max_body_bytes
// and nothing for HEAD; no exception escapes (libFuzzer reports one as a crash).

#include "fuzz_check.hpp"

#include <edgeloop/http/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <limits>
#include <memory>
#include <optional>
#include <string>

namespace {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

struct fixture {
    net::io_context ioc;
    tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
    std::string url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/fuzz";
};

fixture& shared() {
    static fixture f; // one io_context and listening socket for every input
    return f;
}

/// The scripted server side of one connection: request head in, reply pieces out, then drain.
class server : public std::enable_shared_from_this<server> {
public:
    server(tcp::socket s, std::vector<std::string> pieces)
        : socket_(std::move(s))
        , pieces_(std::move(pieces)) {}

    void start() {
        net::async_read_until(socket_, net::dynamic_buffer(request_), "\r\n\r\n",
                              [self = shared_from_this()](error_code ec, std::size_t) {
                                  if (ec)
                                      return self->drain();
                                  self->write_next();
                              });
    }

private:
    void write_next() {
        if (next_ == pieces_.size()) {
            error_code ignored;
            socket_.shutdown(tcp::socket::shutdown_send, ignored);
            return drain();
        }
        const auto& piece = pieces_[next_++];
        net::async_write(socket_, net::buffer(piece),
                         [self = shared_from_this()](error_code ec, std::size_t) {
                             if (ec)
                                 return self->drain();
                             self->write_next();
                         });
    }

    void drain() {
        socket_.async_read_some(net::buffer(scratch_),
                                [self = shared_from_this()](error_code ec, std::size_t) {
                                    if (!ec)
                                        return self->drain();
                                    error_code ignored;
                                    self->socket_.close(ignored);
                                });
    }

    tcp::socket socket_;
    std::vector<std::string> pieces_;
    std::string request_;
    std::size_t next_ = 0;
    std::array<char, 4096> scratch_{};
};

struct observed {
    int completions = 0;
    int heads = 0;
    unsigned head_status = 0;
    std::uint64_t body_bytes = 0;
    bool body_before_head = false;
    error_code ec;
    edgeloop::http::transfer_info info;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 4)
        return 0;
    namespace http = edgeloop::http;
    auto& f = shared();
    const std::uint8_t control = data[0];
    const std::string reply(reinterpret_cast<const char*>(data + 4), size - 4);

    std::vector<std::string> pieces;
    const std::size_t writes = std::min<std::size_t>(3, (control & 3u) + 1);
    std::size_t cut1 = reply.size() * data[1] / 256;
    std::size_t cut2 = reply.size() * data[2] / 256;
    if (cut1 > cut2)
        std::swap(cut1, cut2);
    if (writes == 1)
        pieces = {reply};
    else if (writes == 2)
        pieces = {reply.substr(0, cut1), reply.substr(cut1)};
    else
        pieces = {reply.substr(0, cut1), reply.substr(cut1, cut2 - cut1), reply.substr(cut2)};
    std::erase_if(pieces, [](const std::string& p) { return p.empty(); });

    static constexpr std::array<std::uint32_t, 4> header_limits{256, 1024, 8 * 1024, 64 * 1024};
    static constexpr std::array<std::uint64_t, 4> body_limits{16, 300, 64 * 1024,
                                                              std::numeric_limits<std::uint64_t>::max()};
    static constexpr std::array<std::size_t, 4> chunk_sizes{1, 7, 64, 16 * 1024};
    http::client_options opts;
    opts.limits.max_header_bytes = header_limits[(control >> 2) & 3u];
    opts.limits.max_body_bytes = body_limits[(control >> 4) & 3u];
    opts.limits.body_chunk_bytes = chunk_sizes[data[3] & 3u];
    opts.pool.keep_alive = false;
    opts.redirects.follow = false;
    // Backstops only: the server always closes, so no transfer should ever wait this long.
    opts.timeouts.connect = opts.timeouts.write = opts.timeouts.response_head = opts.timeouts.idle =
        std::chrono::seconds(10);
    const bool head_request = (control & 0x40u) != 0;
    const bool paced = (control & 0x80u) != 0;

    observed seen;
    f.acceptor.async_accept([&](error_code ec, tcp::socket s) {
        if (!ec) {
            // Each piece goes out at once (no Nagle delay waiting for the client's delayed ACK).
            s.set_option(tcp::no_delay(true), ec);
            std::make_shared<server>(std::move(s), pieces)->start();
        }
    });
    {
        http::client client(f.ioc.get_executor(), opts);
        http::handlers h;
        h.on_response = [&](const http::response_head& head) {
            ++seen.heads;
            seen.head_status = head.status;
        };
        const auto on_bytes = [&](std::span<const std::byte> bytes) {
            if (seen.heads == 0)
                seen.body_before_head = true;
            seen.body_bytes += bytes.size();
        };
        if (paced) {
            h.on_body_paced = [&, on_bytes](std::span<const std::byte> bytes, std::function<void()> resume) {
                on_bytes(bytes);
                net::post(f.ioc, std::move(resume));
            };
        } else {
            h.on_body = on_bytes;
        }
        http::request req;
        req.method = head_request ? "HEAD" : "GET";
        req.url = f.url;
        client.async_fetch(std::move(req), std::move(h), [&](error_code ec, http::transfer_info info) {
            ++seen.completions;
            f.acceptor.cancel(); // a transfer that never connected must not leave the accept pending
            seen.ec = ec;
            seen.info = std::move(info);
        });
        f.ioc.restart();
        f.ioc.run();
    }
    // The client is gone: anything it left behind runs now.
    f.ioc.restart();
    f.ioc.run();

    FUZZ_CHECK(seen.completions == 1);
    FUZZ_CHECK(seen.heads <= 1);
    FUZZ_CHECK(!seen.body_before_head);
    FUZZ_CHECK(seen.body_bytes == seen.info.body_bytes);
    if (seen.heads == 1)
        FUZZ_CHECK(seen.head_status == seen.info.status);
    if (!seen.ec) {
        FUZZ_CHECK(seen.heads == 1);
        FUZZ_CHECK(seen.info.status >= 100 && seen.info.status <= 999);
        FUZZ_CHECK(seen.info.body_bytes <= opts.limits.max_body_bytes);
        if (head_request)
            FUZZ_CHECK(seen.info.body_bytes == 0);
    } else {
        (void)http::describe(seen.ec, seen.info);
    }
    return 0;
}
