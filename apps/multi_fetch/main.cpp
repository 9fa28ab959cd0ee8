// multi_fetch: the Azure Sphere "HTTPS cURL Multi" sample on edgeloop. Composition root only: parse the
// command line, build the TLS context, client, multi and (with --demo) start edgeloop-demo-server, run
// the reactor.

#include "common/demo_server_process.hpp"
#include "common/identity_reload.hpp"
#include "common/proxy.hpp"
#include "conditions.hpp"
#include "options.hpp"
#include "output.hpp"
#include "request_plan.hpp"
#include "url_source.hpp"
#include "write_out.hpp"

#include <edgeloop/boards.hpp>
#include <edgeloop/core.hpp>
#include <edgeloop/gpio.hpp>
#include <edgeloop/http.hpp>
#include <edgeloop/tls.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace edgeloop;
using multi_fetch::exit_status;

struct run_totals {
    std::size_t transfers = 0;
    std::size_t failed = 0;
    std::size_t aborted = 0;
    std::uint64_t bytes = 0;
};

/// One line on stderr, redrawn while transfers run, when stderr is a terminal.
class progress_line {
public:
    progress_line(boost::asio::any_io_executor ex, bool enabled)
        : timer_(ex)
        , enabled_(enabled) {}

    void set(std::size_t id, std::uint64_t bytes) {
        if (enabled_)
            bytes_[id] = bytes;
    }
    void done(std::size_t id) { bytes_.erase(id); }
    void start() {
        if (!enabled_)
            return;
        timer_.expires_after(std::chrono::milliseconds(250));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            draw();
            start();
        });
    }
    void stop() {
        if (!enabled_)
            return;
        timer_.cancel();
        std::fputs("\r\033[K", stderr);
    }

private:
    void draw() {
        std::string line = "\r\033[K";
        for (const auto& [id, b] : bytes_)
            line += "[" + std::to_string(id) + "] " + std::to_string(b / 1024) + " KiB  ";
        std::fputs(line.c_str(), stderr);
    }

    boost::asio::steady_timer timer_;
    bool enabled_;
    std::map<std::size_t, std::uint64_t> bytes_;
};

http::client_options client_options_from(const multi_fetch::options& opt) {
    http::client_options o;
    if (opt.connect_timeout)
        o.timeouts.resolve = o.timeouts.connect = o.timeouts.handshake = *opt.connect_timeout;
    if (opt.max_time)
        o.timeouts.total = *opt.max_time;
    o.pool.max_total = opt.max_total;
    o.pool.max_per_host = opt.max_per_host;
    // URLs are read as the transfers run: only this many wait for a connection at a time.
    o.pool.max_queued = std::max<std::size_t>(64, opt.max_total);
    // Keep every connection --max-total allows: a burst of completions would otherwise close those above
    // max_idle's default, and the next URLs of the list open new ones (a handshake each) a moment later.
    o.pool.max_idle = std::max(o.pool.max_idle, opt.max_total);
    o.pool.tls_session_cache = opt.session_cache;
    o.redirects.follow = opt.follow;
    o.redirects.max_redirects = opt.max_redirs;
    o.redirects.credentials_to_other_origins = opt.location_trusted;
    o.allowed_hosts = opt.allow;
    o.proxy = app_common::to_proxy_options(opt.proxy);
    o.connect = opt.connect;
    app_common::apply_keepalive(opt.connect_cli, o.pool);
    if (opt.limit_rate_total > 0)
        o.rate_limit = http::rate_limit(opt.limit_rate_total);
    o.user_agent.clear(); // request_plan sends the User-Agent (-A, or none after -H "User-Agent:")
    return o;
}

int run(const multi_fetch::options& opt) {
    core::log::set_level(opt.verbose >= 2   ? core::log_level::debug
                         : opt.verbose == 1 ? core::log_level::info
                                            : core::log_level::warn);
    core::reactor reactor;
    if (opt.verbose > 0)
        app_common::log_proxy_setting(app_common::to_proxy_options(opt.proxy));

    std::unique_ptr<app_common::demo_server_process> demo_server;
    std::vector<std::string> urls = opt.urls;
    tls::options tls_opts{
        .ca_file = opt.cacert,
        .ca_dir = opt.capath,
        .client_identity = tls::identity::from_arguments(opt.cert, opt.key, opt.pass, {.file = opt.pin_file}),
        .insecure = opt.insecure};
    if (opt.demo) {
        demo_server = std::make_unique<app_common::demo_server_process>(reactor.executor());
        if (urls.empty())
            urls = {demo_server->url("/200?sleep=5000"), demo_server->url("/400?sleep=1000")};
        if (tls_opts.ca_file.empty())
            tls_opts.ca_file = demo_server->ca_file();
        std::printf("Demo server listening on %s (CA %s)\n", demo_server->url("/").c_str(),
                    demo_server->ca_file().c_str());
    }
    if (urls.empty() && opt.url_files.empty())
        urls = multi_fetch::default_urls();
    // The human lines: stdout, or stderr when stdout carries --json-lines.
    // -s: none of them (failures still on stderr with -S).
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> devnull(std::fopen("/dev/null", "w"), &std::fclose);
    if (opt.silent && !devnull) {
        std::fprintf(stderr, "multi_fetch: /dev/null: cannot open\n");
        return multi_fetch::exit_usage;
    }
    std::FILE* const prose = opt.silent ? devnull.get() : opt.json_lines ? stderr : stdout;
    std::FILE* const failures = opt.silent && opt.show_error ? stderr : prose;
    const bool print_bodies = !opt.quiet && !opt.json_lines;
    const bool fail_status = opt.fail || opt.fail_with_body;
    // -D: every response head, in the order the transfers get them.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> dump(nullptr, &std::fclose);
    std::FILE* dump_to = nullptr;
    if (opt.dump_header == "-") {
        dump_to = stdout;
    } else if (!opt.dump_header.empty()) {
        dump.reset(std::fopen(opt.dump_header.c_str(), "wb"));
        if (!dump) {
            std::fprintf(stderr, "multi_fetch: --dump-header %s: %s\n", opt.dump_header.c_str(),
                         std::strerror(errno));
            return multi_fetch::exit_usage;
        }
        dump_to = dump.get();
    }
    std::string write_out = opt.write_out;
    if (!write_out.empty() && write_out.front() == '@') {
        const auto path = write_out.substr(1);
        std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "multi_fetch: --write-out @%s: cannot open\n", path.c_str());
            return multi_fetch::exit_usage;
        }
        write_out.assign(std::istreambuf_iterator<char>(in), {});
        std::erase_if(write_out, [](char c) { return c == '\r' || c == '\n'; }); // as curl reads it
    }
    std::optional<multi_fetch::request_plan> plan;
    try {
        plan.emplace(opt);
    } catch (const multi_fetch::usage_error& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_usage;
    }
    if (plan->reads_stdin() && std::count(opt.url_files.begin(), opt.url_files.end(), "-") > 0) {
        std::fprintf(stderr, "multi_fetch: stdin cannot hold both URLs (-K -) and request data (@-, -T -)\n");
        return multi_fetch::exit_usage;
    }
    if (!opt.output_dir.empty() && opt.create_dirs) {
        std::error_code ec;
        std::filesystem::create_directories(opt.output_dir, ec);
    }
    if (!opt.output_dir.empty() && !std::filesystem::is_directory(opt.output_dir)) {
        std::fprintf(stderr, "multi_fetch: --output-dir %s: not a directory\n", opt.output_dir.c_str());
        return multi_fetch::exit_usage;
    }

    std::optional<tls::context> tls_ctx;
    try {
        tls_ctx.emplace(tls_opts);
    } catch (const tls::config_error& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_config;
    }
    std::optional<http::client> client;
    try {
        client.emplace(reactor.executor(), std::move(*tls_ctx), client_options_from(opt));
    } catch (const std::invalid_argument& e) { // a malformed --allow entry
        std::fprintf(stderr, "multi_fetch: --allow: %s\n", e.what());
        return multi_fetch::exit_usage;
    }
    // --cert/--key reloaded when their files change or on SIGHUP (rotation).
    http::client* identity_client = &*client;
    std::optional<tls::identity_watch> identity_watch;
    app_common::watch_identity("multi_fetch", reactor, identity_watch,
                               {opt.cert, opt.key, opt.pass, opt.pin_file}, identity_client);
    std::optional<tls::expiry_check> expiry_check; // daily: "client certificate ... expires ..., in N days"
    app_common::check_expiry_daily(reactor, expiry_check, identity_client);
    http::multi transfers(*client);
    progress_line progress(reactor.executor(), ::isatty(STDERR_FILENO) == 1 && !opt.quiet && !opt.silent);
    std::unique_ptr<multi_fetch::url_source> source;
    bool bad_url_file = false;
    bool batch_running = false;
    // A signal while a batch runs, even one only waiting for more URLs on stdin, is an interruption.
    bool interrupted = false;
    reactor.on_stop([&] {
        interrupted = interrupted || batch_running;
        if (source)
            source->cancel();
        transfers.stop();
        client->cancel_all();
        if (demo_server)
            demo_server->stop();
    });

    // The board: button A starts a batch of transfers, LED1 blinks from start to stop.
    std::unique_ptr<boards::board> board;
    gpio::input* button = nullptr;
    gpio::output* led = nullptr;
    try {
        board = boards::open_board(reactor.executor(), opt.board.board, opt.board.sim(opt.verbose > 0));
        button = &board->input(opt.board.button);
        led = &board->output(opt.board.led);
    } catch (const std::exception& e) { // definition_error, lookup_error, system_error (device, FIFO)
        std::fprintf(stderr, "multi_fetch: board: %s\n", e.what());
        return multi_fetch::exit_board;
    }
    gpio::blinker blinker(reactor.executor(), *led, std::chrono::milliseconds(500));
    blinker.start();

    run_totals totals;
    std::size_t batch = 0;
    // stdin (-K -) is read by the first batch, to its end; later presses fetch the other URLs only.
    const bool reads_stdin =
        std::find(opt.url_files.begin(), opt.url_files.end(), "-") != opt.url_files.end();
    const bool wait_for_press = !opt.now && board->more_presses_possible();
    multi_fetch::name_picker names(opt.output_dir);
    const auto started = std::chrono::steady_clock::now();
    gpio::subscription presses;

    const auto prompt = [&] {
        std::fprintf(prose, " -==- Press %s to start the downloads -==-\n", opt.board.button.c_str());
        std::fflush(prose);
    };
    // One transfer for URL number n: nullopt when its output file cannot be created (counted failed).
    // A streamed body reports a read error to `body` (the transfer then fails with it).
    const auto make_transfer =
        [&](std::size_t n, const multi_fetch::url_entry& entry, const multi_fetch::request_plan& request,
            const std::shared_ptr<multi_fetch::body_status>& body) -> std::optional<http::transfer> {
        const std::string& url = entry.url;
        auto printer = std::make_shared<multi_fetch::line_printer>(n);
        std::shared_ptr<multi_fetch::file_sink> file;
        bool raw_stdout = false; // -o -
        std::string target;
        const auto refuse = [&](const std::string& why) {
            std::fprintf(stderr, "multi_fetch: %s\n", why.c_str());
            ++totals.failed;
        };
        if (entry.output || n <= opt.outputs.size()) { // the -K file's, else -o/-O paired in order
            const auto& spec = entry.output ? *entry.output : opt.outputs[n - 1];
            raw_stdout = !spec.remote_name && spec.path == "-";
            if (!raw_stdout) {
                target = spec.remote_name ? multi_fetch::url_file_name(url) : spec.path;
                if (target.empty()) {
                    refuse("--remote-name: " + core::redact_url(url) + " has no file name");
                    return std::nullopt;
                }
                if (!opt.output_dir.empty() && target.front() != '/')
                    target = opt.output_dir + "/" + target;
                const auto parent = std::filesystem::path(target).parent_path();
                std::error_code ec;
                if (opt.create_dirs && !parent.empty() && !std::filesystem::create_directories(parent, ec) &&
                    ec) {
                    refuse("--create-dirs " + parent.string() + ": " + ec.message());
                    return std::nullopt;
                }
                const auto wanted = target;
                if (opt.no_clobber && (target = multi_fetch::unclobbered(wanted)).empty()) {
                    refuse("--no-clobber: " + wanted + " and " + wanted + ".1 ... .100 all exist");
                    return std::nullopt;
                }
            }
        } else if (!opt.output_dir.empty()) {
            target = names.pick(url, opt.continue_at);
        }
        if (!target.empty()) {
            file = std::make_shared<multi_fetch::file_sink>(target, opt.continue_at);
            if (!file->ok()) {
                refuse(file->error());
                return std::nullopt;
            }
        }
        auto received = std::make_shared<std::uint64_t>(0);
        http::handlers h;
        h.on_body = [&, n, printer, file, received, raw_stdout](std::span<const std::byte> bytes) {
            *received += bytes.size();
            progress.set(n, *received);
            if (file)
                file->write(bytes);
            else if (raw_stdout)
                std::fwrite(bytes.data(), 1, bytes.size(), stdout);
            else if (print_bodies)
                printer->feed(bytes);
        };
        // --retry, -C -: the body may start again (a changed file, a server ignoring Range).
        h.on_body_rewind = [&, n, file, received](std::uint64_t offset) {
            *received = offset;
            if (file)
                file->rewind(offset);
            else if (!opt.silent)
                std::fprintf(
                    stderr,
                    "multi_fetch: [%zu] the body starts again from byte %llu (what was written stays)\n", n,
                    static_cast<unsigned long long>(offset));
        };
        auto fields = std::make_shared<http::header_list>(); // the final response's, for -w and --json-lines
        const bool show_head = opt.include || opt.head;
        if (!write_out.empty() || opt.json_lines || show_head || dump_to != nullptr)
            h.on_response = [&, fields, show_head, body_sink = h.on_body](const http::response_head& head) {
                *fields = head.headers;
                std::string text = "HTTP/1." + std::to_string(head.version % 10) + " " +
                                   std::to_string(head.status) + " " + head.reason + "\r\n";
                for (const auto& [name, value] : head.headers)
                    text += name + ": " + value + "\r\n";
                text += "\r\n";
                if (dump_to != nullptr) {
                    std::fwrite(text.data(), 1, text.size(), dump_to);
                    std::fflush(dump_to);
                }
                if (show_head) // -i/-I: where the body goes, before it (not counted as body bytes)
                    body_sink(std::as_bytes(std::span<const char>(text.data(), text.size())));
            };
        auto on_done = [&, n, printer, file, body, fields](const boost::system::error_code& ec,
                                                           const http::transfer_info& info) {
            body->cancel = nullptr;
            progress.done(n);
            printer->flush();
            ++totals.transfers;
            totals.bytes += info.body_bytes;
            // -C - on a .part already whole: the 416 says there is nothing more (as curl -C -); a 304
            // (--etag-compare, -z) is a success without a body.
            const bool status_ok =
                (info.status >= 200 && info.status < 300) || info.already_complete || info.not_modified;
            std::string where;
            const bool status_failed = !ec && fail_status && !status_ok;
            bool failed = ec || status_failed || !body->error.empty();
            const bool keep_body = !ec && body->error.empty() && (!status_failed || opt.fail_with_body);
            // -C -: a transfer cut off leaves its .part (the right file's first bytes) for the next run.
            const bool resumable_part = opt.continue_at && ec && ec != http::error::digest_mismatch &&
                                        ec != http::error::range_mismatch &&
                                        (info.status == 200 || info.status == 206);
            if (file) {
                if ((!keep_body && resumable_part) || (info.not_modified && opt.continue_at))
                    file->keep_part();
                else if (!keep_body || info.not_modified) // 304: the file there (if any) stays as it is
                    file->discard();
                else if (file->commit())
                    where = " -> " + file->path();
                else {
                    failed = true;
                    std::fprintf(stderr, "multi_fetch: %s\n", file->error().c_str());
                }
            }
            if (const auto why = ec ? std::string() : multi_fetch::save_etag(opt, info); !why.empty()) {
                failed = true;
                std::fprintf(stderr, "multi_fetch: %s\n", why.c_str());
            }
            std::string errormsg;
            if (!body->error.empty()) {
                errormsg = "request body: " + body->error;
                std::fprintf(
                    failures,
                    "%s-==- %s download failed: request body: %s (elapsed time %lld milliseconds) -==-\n",
                    printer->prefix().c_str(), core::redact_url(info.url).c_str(), body->error.c_str(),
                    static_cast<long long>(info.elapsed.count()));
            } else if (ec) {
                totals.aborted += ec == boost::asio::error::operation_aborted;
                errormsg = http::describe(ec, info);
                std::fprintf(failures,
                             "%s-==- %s download failed: %s (elapsed time %lld milliseconds) -==-\n",
                             printer->prefix().c_str(), core::redact_url(info.url).c_str(),
                             http::describe(ec, info).c_str(), static_cast<long long>(info.elapsed.count()));
            } else {
                if (failed)
                    errormsg = file && !file->error().empty()
                                   ? file->error()
                                   : "The requested URL returned error: " + std::to_string(info.status);
                // Resumed (-C -, --retry): from which byte; retried: how many attempts.
                std::string resumed = info.not_modified ? ", not modified" : "";
                if (info.already_complete)
                    resumed += ", already complete";
                else if (info.resumed_from > 0)
                    resumed += ", resumed from byte " + std::to_string(info.resumed_from);
                if (info.attempts > 1)
                    resumed += ", " + std::to_string(info.attempts) + " attempts";
                std::fprintf(
                    prose,
                    "%s-==- %s download complete: HTTP %u, %llu bytes%s%s (elapsed time %lld milliseconds) "
                    "-==-\n",
                    printer->prefix().c_str(), core::redact_url(info.url).c_str(), info.status,
                    static_cast<unsigned long long>(info.body_bytes), resumed.c_str(), where.c_str(),
                    static_cast<long long>(info.elapsed.count()));
            }
            totals.failed += failed;
            std::fflush(prose);
            if (!write_out.empty() || opt.json_lines) {
                const multi_fetch::transfer_report report{.info = info,
                                                          .headers = *fields,
                                                          .upload_bytes = body->upload_bytes,
                                                          .exitcode = failed ? multi_fetch::exit_transfer
                                                                             : multi_fetch::exit_ok,
                                                          .errormsg = errormsg,
                                                          .verified = !opt.insecure};
                if (!write_out.empty())
                    multi_fetch::write_out(write_out, report);
                if (opt.json_lines) {
                    const auto line = boost::json::serialize(multi_fetch::json_of(report)) + "\n";
                    std::fwrite(line.data(), 1, line.size(), stdout);
                    std::fflush(stdout);
                }
            }
        };
        auto req = request.make(url, body);
        // --sha256 pairs with the URLs as -o does; a -K file's own sha256 wins.
        req.expected_sha256 = !entry.sha256.empty()    ? entry.sha256
                              : n <= opt.sha256.size() ? opt.sha256[n - 1]
                                                       : std::string();
        req.retry.count = opt.retry;
        req.retry.delay = opt.retry_delay.value_or(std::chrono::milliseconds(0));
        req.retry.max_time = opt.retry_max_time.value_or(std::chrono::milliseconds(0));
        req.retry.all_errors = opt.retry_all_errors;
        if (file && file->resumed_bytes() > 0) { // -C -: the rest of what the .part holds
            req.range = http::byte_range{.first = file->resumed_bytes(), .last = std::nullopt};
            req.resume_file = file->part_path(); // hashed first for --sha256
            *received = file->resumed_bytes();
        }
        // Per transfer, as curl's; a -K group's limit-rate line replaces the command line's.
        const auto rate = entry.group && entry.group->limit_rate ? *entry.group->limit_rate : opt.limit_rate;
        if (rate > 0)
            req.rate_limit = http::rate_limit(rate);
        if (const auto why = multi_fetch::apply_conditions(opt, req, stderr); !why.empty()) {
            refuse(why);
            return std::nullopt;
        }
        return http::transfer{
            .req = std::move(req), .callbacks = std::move(h), .on_done = std::move(on_done)};
    };

    std::size_t numbered = 0; // URLs of this batch so far
    // The plan of the last -K group seen (most URLs of a group come one after the other).
    std::optional<multi_fetch::request_plan> group_plan;
    std::shared_ptr<const multi_fetch::url_group> group_plan_of;
    // Once every URL is read (or reading stopped), wait for the transfers still running.
    const auto all_added = [&] {
        if (!source->error().empty()) {
            std::fprintf(stderr,
                         "multi_fetch: %s; no more URLs read, the %zu transfers started run to their end\n",
                         source->error().c_str(), numbered);
            bad_url_file = true;
        }
        transfers.async_wait_all([&](boost::system::error_code) {
            batch_running = false;
            progress.stop();
            if (!wait_for_press || !board->more_presses_possible() || reactor.stopping())
                reactor.stop();
            else
                prompt();
        });
    };
    // The feeding loop: the next URL, then async_add, which waits while pool_options::max_queued
    // transfers wait for a connection; then the next URL.
    std::function<void()> feed = [&] {
        source->async_next([&](std::optional<multi_fetch::url_entry> entry) {
            if (!entry)
                return all_added();
            const multi_fetch::request_plan* request = &*plan;
            if (entry->group) { // a -K group's header/data lines: the command line's plan plus them
                if (entry->group != group_plan_of) {
                    try {
                        auto with = opt;
                        with.headers.insert(with.headers.end(), entry->group->headers.begin(),
                                            entry->group->headers.end());
                        with.data.insert(with.data.end(), entry->group->data.begin(),
                                         entry->group->data.end());
                        group_plan.emplace(with, &*plan);
                        group_plan_of = entry->group;
                    } catch (const multi_fetch::usage_error& e) {
                        group_plan.reset();
                        group_plan_of.reset();
                        source->stop(entry->group->where + ": " + e.what());
                        return all_added();
                    }
                }
                request = &*group_plan;
            }
            auto body = std::make_shared<multi_fetch::body_status>();
            auto t = make_transfer(++numbered, *entry, *request, body);
            if (!t) // posted: a run of failures must not recurse
                return boost::asio::post(reactor.executor(), feed);
            transfers.async_add(std::move(*t), [&, body](boost::system::error_code ec, http::multi::id id) {
                if (ec) // stopped
                    return all_added();
                if (body->error.empty()) // still running: a body read error stops it
                    body->cancel = [&transfers, id] { transfers.cancel(id); };
                feed();
            });
        });
    };
    std::function<void()> start_batch = [&] {
        // Files are read afresh on each press; stdin only by the first (it is at its end after it).
        std::vector<std::string> files = opt.url_files;
        if (batch > 0 && reads_stdin) {
            std::erase(files, "-");
            std::fprintf(prose,
                         " -==- stdin (-K -) was read to its end by the first press: no URLs from it -==-\n");
            if (urls.empty() && files.empty()) {
                std::fprintf(prose, " -==- No URLs to fetch: press ignored -==-\n");
                std::fflush(prose);
                return prompt();
            }
        }
        batch_running = true;
        ++batch;
        std::fprintf(prose, " -==- Starting downloads -==-\n");
        std::fflush(prose);
        source = std::make_unique<multi_fetch::url_source>(reactor.executor(), urls, std::move(files));
        numbered = 0;
        progress.start();
        feed();
    };

    reactor.on_stop([&] {
        presses.cancel();
        blinker.stop(true);
        board->close();
    });
    if (wait_for_press) {
        prompt();
        presses = gpio::subscribe(
            *button,
            [&](const gpio::edge_event&) {
                if (batch_running) {
                    std::fprintf(prose, " -==- Transfers still running: press ignored -==-\n");
                    std::fflush(prose);
                    return;
                }
                start_batch();
            },
            true);
    } else {
        start_batch();
    }
    reactor.run();

    const auto wall =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::fprintf(prose, "Summary: %zu transfers, %zu failed, %llu bytes, wall time %lld milliseconds\n",
                 totals.transfers, totals.failed, static_cast<unsigned long long>(totals.bytes),
                 static_cast<long long>(wall.count()));
    if (opt.verbose > 0)
        std::fprintf(stderr, "%s\n", blinker.report().c_str());
    std::fprintf(prose, "Application exiting.\n");
    if (reactor.stop_signal() != 0 && (interrupted || totals.aborted > 0 || batch == 0))
        return multi_fetch::exit_interrupted;
    if (bad_url_file)
        return multi_fetch::exit_usage;
    return totals.failed > 0 ? multi_fetch::exit_transfer : multi_fetch::exit_ok;
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
    } catch (const app_common::demo_server_error& e) { // --demo's server program missing or broken
        std::fprintf(stderr, "multi_fetch: --demo: %s\n", e.what());
        return app_common::exit_demo_server;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "multi_fetch: %s\n", e.what());
        return multi_fetch::exit_transfer;
    }
}
