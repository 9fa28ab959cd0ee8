// multi_fetch: the Azure Sphere "HTTPS cURL Multi" sample on edgeloop. Composition root only: parse the
// command line, build the TLS context, client and (with --demo) the embedded server, run the reactor.

#include "options.hpp"

#include <edgeloop/core.hpp>
#include <edgeloop/devserver.hpp>
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace edgeloop;

/// Writes a transfer's body to stdout as it arrives, each line prefixed "[n] ". Only whole lines are
/// written (so concurrent transfers never split each other's lines), except that a line longer than
/// the limit is written in pieces.
class line_printer {
public:
    explicit line_printer(std::size_t id)
        : prefix_("[" + std::to_string(id) + "] ") {}

    void feed(std::span<const std::byte> bytes) {
        const auto* p = reinterpret_cast<const char*>(bytes.data());
        pending_.append(p, bytes.size());
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
            emit(std::string_view(pending_).substr(start, nl + 1 - start));
        pending_.erase(0, start);
        if (pending_.size() >= max_line_) {
            emit(pending_ + "\n");
            pending_.clear();
        }
        std::fflush(stdout);
    }

    void flush() {
        if (!pending_.empty())
            emit(pending_ + "\n");
        pending_.clear();
        std::fflush(stdout);
    }

    const std::string& prefix() const noexcept { return prefix_; }

private:
    void emit(std::string_view line) {
        std::fwrite(prefix_.data(), 1, prefix_.size(), stdout);
        std::fwrite(line.data(), 1, line.size(), stdout);
    }

    static constexpr std::size_t max_line_ = 4096;
    std::string prefix_;
    std::string pending_;
};

int run(const multi_fetch::options& opt) {
    core::log::set_level(opt.verbose >= 2   ? core::log_level::debug
                         : opt.verbose == 1 ? core::log_level::info
                                            : core::log_level::warn);
    core::reactor reactor;

    std::unique_ptr<devserver::server> demo_server;
    std::vector<std::string> urls = opt.urls;
    tls::options tls_opts;
    tls_opts.ca_file = opt.cacert;
    tls_opts.ca_dir = opt.capath;
    tls_opts.cert_file = opt.cert;
    tls_opts.key_file = opt.key;
    tls_opts.key_passphrase = opt.pass;
    tls_opts.insecure = opt.insecure;
    if (opt.demo) {
        demo_server = std::make_unique<devserver::server>(reactor.executor());
        if (urls.empty())
            urls = {demo_server->url("/200?sleep=5000"), demo_server->url("/400?sleep=1000")};
        if (tls_opts.ca_file.empty())
            tls_opts.ca_file = demo_server->ca_file();
        std::printf("Demo server listening on %s (CA %s)\n", demo_server->url("/").c_str(),
                    demo_server->ca_file().c_str());
    }
    if (urls.empty())
        urls = multi_fetch::default_urls();

    std::optional<tls::context> tls_ctx;
    try {
        tls_ctx.emplace(tls_opts);
    } catch (const tls::config_error& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_config;
    }

    http::client_options client_opts;
    if (opt.connect_timeout)
        client_opts.timeouts.resolve = client_opts.timeouts.connect = client_opts.timeouts.handshake =
            *opt.connect_timeout;
    if (opt.max_time)
        client_opts.timeouts.total = *opt.max_time;
    http::client client(reactor.executor(), std::move(*tls_ctx), client_opts);
    reactor.on_stop([&] {
        client.cancel_all();
        if (demo_server)
            demo_server->stop();
    });

    std::size_t remaining = urls.size();
    bool any_failed = false;
    bool any_aborted = false;
    std::printf(" -==- Starting downloads -==-\n");
    std::fflush(stdout);
    for (std::size_t i = 0; i < urls.size(); ++i) {
        auto printer = std::make_shared<line_printer>(i + 1);
        http::handlers h;
        if (!opt.quiet)
            h.on_body = [printer](std::span<const std::byte> bytes) { printer->feed(bytes); };
        client.async_fetch(
            http::request{.url = urls[i]}, std::move(h),
            [&, printer](boost::system::error_code ec, http::transfer_info info) {
                printer->flush();
                const bool status_ok = info.status >= 200 && info.status < 300;
                if (ec) {
                    any_failed = true;
                    any_aborted = any_aborted || ec == boost::asio::error::operation_aborted;
                    std::printf("%s-==- %s download failed: %s (elapsed time %lld milliseconds) -==-\n",
                                printer->prefix().c_str(), info.url.c_str(), http::describe(ec, info).c_str(),
                                static_cast<long long>(info.elapsed.count()));
                } else {
                    if (opt.fail && !status_ok)
                        any_failed = true;
                    std::printf("%s-==- %s download complete: HTTP %u, %llu bytes (elapsed time "
                                "%lld milliseconds) -==-\n",
                                printer->prefix().c_str(), info.url.c_str(), info.status,
                                static_cast<unsigned long long>(info.body_bytes),
                                static_cast<long long>(info.elapsed.count()));
                }
                std::fflush(stdout);
                if (--remaining == 0)
                    reactor.stop();
            });
    }
    reactor.run();
    std::printf("Application exiting.\n");
    if (reactor.stop_signal() != 0 && (any_aborted || remaining > 0))
        return multi_fetch::exit_interrupted;
    return any_failed ? multi_fetch::exit_transfer : multi_fetch::exit_ok;
}

} // namespace

int main(int argc, char* argv[]) {
    multi_fetch::options opt;
    try {
        opt = multi_fetch::parse_options(argc, argv);
    } catch (const multi_fetch::usage_error& e) {
        std::fprintf(stderr, "multi_fetch: %s\nTry 'multi_fetch --help' for more information.\n", e.what());
        return multi_fetch::exit_usage;
    }
    if (opt.help) {
        std::cout << multi_fetch::help_text();
        return multi_fetch::exit_ok;
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_transfer;
    }
}
