#include "spool_mode.hpp"
#include "systemd_notify.hpp"

#include <edgeloop/aws.hpp>
#include <edgeloop/outbox.hpp>
#include <edgeloop/retry/retry_after.hpp>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace aws_post {

namespace {

using namespace edgeloop;
namespace net = boost::asio;
using std::chrono::milliseconds;

/// The MQTT 5 user property that carries each message's outbox id, for consumers to drop duplicates.
constexpr const char* message_id_property = "edgeloop-message-id";
/// Longest input line (a 128 KB payload JSON-escaped fits easily).
constexpr std::size_t max_line_bytes = 1024 * 1024;

outbox::options outbox_options(const options& opt) {
    outbox::options o;
    o.path = opt.spool;
    o.sync = opt.spool_sync == "normal" ? outbox::durability::normal : outbox::durability::full;
    o.max_bytes = opt.spool_max_bytes;
    o.when_full =
        opt.spool_policy == "drop-oldest" ? outbox::full_policy::drop_oldest : outbox::full_policy::refuse;
    o.ttl = opt.ttl;
    o.max_rate = opt.max_rate;
    o.backoff.base = opt.backoff_base;
    o.backoff.max = std::max(opt.backoff_max, milliseconds(1));
    return o;
}

/// Reads stdin on a thread of its own (stdin may be a regular file, which epoll cannot watch), one line
/// at a time: each line goes to the loop, and the next is read only after next() (its commit), so at most
/// one line is held and a producer faster than the disk is held back by the pipe.
class line_reader {
public:
    using line_handler = std::function<void(std::string line, std::uint64_t number, bool too_long)>;

    line_reader(net::any_io_executor ex, line_handler on_line, std::function<void()> on_end)
        : executor_(std::move(ex))
        , on_line_(std::move(on_line))
        , on_end_(std::move(on_end)) {
        if (::pipe2(wake_, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe2 failed");
        thread_ = std::thread([this] { read_loop(); });
    }
    ~line_reader() {
        stop();
        thread_.join();
        ::close(wake_[0]);
        ::close(wake_[1]);
    }

    /// The loop is done with the last line: read the next.
    void next() {
        std::lock_guard lock(mutex_);
        may_read_ = true;
        cv_.notify_one();
    }

    void stop() {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return;
        stopping_ = true;
        cv_.notify_one();
        [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    }

private:
    void read_loop() {
        std::string buffer, line;
        std::uint64_t number = 0;
        bool discarding = false;
        char chunk[65536];
        for (;;) {
            // A whole line in the buffer: hand it over and wait for next().
            const auto nl = buffer.find('\n');
            if (nl != std::string::npos) {
                line.assign(buffer, 0, nl);
                buffer.erase(0, nl + 1);
                ++number;
                if (discarding) {
                    discarding = false;
                    continue;
                }
                if (!hand_over(std::move(line), number, false))
                    return;
                continue;
            }
            if (buffer.size() > max_line_bytes) {
                // Too long: report it, then skip the rest of it.
                buffer.clear();
                if (!discarding) {
                    discarding = true;
                    if (!hand_over({}, number + 1, true))
                        return;
                }
            }
            pollfd fds[2] = {{0, POLLIN, 0}, {wake_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            if (fds[1].revents)
                return;
            const auto n = ::read(0, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        if (!buffer.empty() && !discarding)
            if (!hand_over(std::move(buffer), number + 1, false))
                return;
        {
            std::lock_guard lock(mutex_);
            if (stopping_)
                return;
        }
        net::post(executor_, on_end_);
    }

    bool hand_over(std::string line, std::uint64_t number, bool too_long) {
        std::unique_lock lock(mutex_);
        if (stopping_)
            return false;
        may_read_ = false;
        net::post(executor_, [this, line = std::move(line), number, too_long]() mutable {
            on_line_(std::move(line), number, too_long);
        });
        cv_.wait(lock, [this] { return may_read_ || stopping_; });
        return !stopping_;
    }

    net::any_io_executor executor_;
    line_handler on_line_;
    std::function<void()> on_end_;
    std::thread thread_;
    int wake_[2] = {-1, -1};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool may_read_ = true;
    bool stopping_ = false;
};

/// One input line to a message, or the reason it is refused.
std::optional<std::string> parse_line(std::string_view line, const options& opt, outbox::message& m) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(line, ec);
    if (ec)
        return "not JSON (" + ec.message() + ")";
    if (!v.is_object())
        return std::string("not a JSON object");
    const auto& o = v.get_object();
    const auto* message = o.if_contains("message");
    if (!message)
        return std::string("no \"message\"");
    m.publish.payload =
        message->is_string() ? std::string(message->get_string()) : boost::json::serialize(*message);
    m.publish.topic = opt.topic;
    m.publish.qos = opt.qos;
    m.publish.retain = opt.retain;
    if (const auto* t = o.if_contains("topic")) {
        if (!t->is_string())
            return std::string("\"topic\" must be a string");
        m.publish.topic = t->get_string();
    }
    if (const auto* q = o.if_contains("qos")) {
        if (!q->is_int64() || (q->get_int64() != 0 && q->get_int64() != 1))
            return std::string("\"qos\" must be 0 or 1");
        m.publish.qos = static_cast<int>(q->get_int64());
    }
    if (const auto* r = o.if_contains("retain")) {
        if (!r->is_bool())
            return std::string("\"retain\" must be true or false");
        m.publish.retain = r->get_bool();
    }
    if (auto bad = aws::validate_topic(m.publish.topic))
        return "topic '" + m.publish.topic + "': " + bad.message();
    if (m.publish.payload.size() > aws::max_payload_bytes)
        return "message of " + std::to_string(m.publish.payload.size()) + " bytes, over AWS's 128 KB";
    return std::nullopt;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/// --listen unix:PATH: clients send the --stdin line format; each line is answered "ok <id>" once
/// committed, or "error: <reason>", before the next is read.
class unix_listener {
public:
    /// Parses and enqueues one line; calls `answer` with the reply line (without newline).
    using line_handler =
        std::function<void(std::string line, std::string what, std::function<void(std::string)> answer)>;

    unix_listener(net::any_io_executor ex, const std::string& path, line_handler handle)
        : acceptor_(ex)
        , path_(path)
        , handle_(std::move(handle)) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
            ::unlink(path.c_str()); // a socket left by an earlier run
        const net::local::stream_protocol::endpoint ep(path);
        acceptor_.open(ep.protocol());
        acceptor_.bind(ep);
        ::chmod(path.c_str(), 0660);
        acceptor_.listen();
        accept();
    }
    ~unix_listener() { ::unlink(path_.c_str()); }
    void stop() {
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (auto& weak : sessions_)
            if (auto s = weak.lock())
                s->socket.close(ec);
    }

private:
    struct session {
        explicit session(net::local::stream_protocol::socket s)
            : socket(std::move(s))
            , buffer(max_line_bytes) {}
        net::local::stream_protocol::socket socket;
        net::streambuf buffer;
        std::string reply;
        std::uint64_t lines = 0;
        std::uint64_t number = 0;
    };

    void accept() {
        acceptor_.async_accept([this](boost::system::error_code ec, net::local::stream_protocol::socket s) {
            if (ec == net::error::operation_aborted || !acceptor_.is_open())
                return;
            if (!ec) {
                auto sess = std::make_shared<session>(std::move(s));
                sess->number = ++clients_;
                std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
                sessions_.push_back(sess);
                read(sess);
            }
            accept();
        });
    }

    void read(std::shared_ptr<session> s) {
        net::async_read_until(
            s->socket, s->buffer, '\n', [this, s](boost::system::error_code ec, std::size_t n) {
                if (ec == net::error::not_found) { // over max_line_bytes without a newline
                    s->reply = "error: line longer than " + std::to_string(max_line_bytes) + " bytes\n";
                    net::async_write(s->socket, net::buffer(s->reply),
                                     [s](boost::system::error_code, std::size_t) {});
                    return;
                }
                if (ec)
                    return;
                std::string line(net::buffers_begin(s->buffer.data()),
                                 net::buffers_begin(s->buffer.data()) + static_cast<long>(n) - 1);
                s->buffer.consume(n);
                const std::string what =
                    "client " + std::to_string(s->number) + " line " + std::to_string(++s->lines);
                handle_(std::move(line), what, [this, s](std::string answer) {
                    s->reply = std::move(answer) + "\n";
                    net::async_write(s->socket, net::buffer(s->reply),
                                     [this, s](boost::system::error_code wec, std::size_t) {
                                         if (!wec)
                                             read(s);
                                     });
                });
            });
    }

    net::local::stream_protocol::acceptor acceptor_;
    std::string path_;
    line_handler handle_;
    std::uint64_t clients_ = 0;
    std::vector<std::weak_ptr<session>> sessions_;
};

/// The drain's sender: one publish over the client, its outcome judged as aws_post judges a publish.
class spool_sender {
public:
    spool_sender(http::client& client, const aws::publish_request& base,
                 std::function<boost::system::error_code(http::request&)> sign)
        : client_(client)
        , base_(base)
        , sign_(std::move(sign)) {}

    void operator()(const outbox::message& m, outbox::queue::done_handler done) {
        aws::publish_request p = base_;
        p.topic = m.publish.topic;
        p.payload = m.publish.payload;
        p.qos = m.publish.qos;
        p.retain = m.publish.retain;
        p.user_properties.push_back({message_id_property, m.id});
        auto req = aws::make_publish_request(p);
        if (!req) {
            done({.error = req.error(),
                  .status = 0,
                  .reason = "cannot be sent: " + req.error().message(),
                  .retry_after = {}});
            return;
        }
        req->replayable = true; // at least once anyway: a resend on a fresh connection is allowed
        if (sign_)
            if (auto ec = sign_(*req)) {
                done({.error = ec, .status = 0, .reason = ec.message(), .retry_after = {}});
                return;
            }
        struct state {
            std::string body;
            std::optional<milliseconds> retry_after;
        };
        auto st = std::make_shared<state>();
        http::handlers h;
        h.on_response = [st](const http::response_head& head) {
            if (const auto value = head.header("Retry-After"); !value.empty())
                if (const auto delay = retry::parse_retry_after(value))
                    st->retry_after = std::chrono::duration_cast<milliseconds>(*delay);
        };
        h.on_body = [st](std::span<const std::byte> bytes) {
            st->body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        };
        client_.async_fetch(
            std::move(*req), std::move(h),
            [st, done = std::move(done)](boost::system::error_code ec, http::transfer_info info) {
                if (ec) {
                    done({.error = ec, .status = 0, .reason = http::describe(ec, info), .retry_after = {}});
                    return;
                }
                const auto r = aws::parse_response(info.status, st->body);
                std::string reason;
                if (r.error) {
                    reason = std::to_string(info.status) + " " + r.error.message();
                    if (!r.message.empty())
                        reason += ": " + r.message;
                }
                done({.error = r.error,
                      .status = info.status,
                      .reason = reason,
                      .retry_after = st->retry_after});
            });
    }

private:
    http::client& client_;
    aws::publish_request base_;
    std::function<boost::system::error_code(http::request&)> sign_;
};

} // namespace

int show_spool(const options& opt) {
    outbox::store s;
    if (auto ec = s.open_existing(outbox_options(opt))) {
        std::fprintf(stderr, "aws_post: --spool %s: %s (%s)\n", opt.spool.c_str(), ec.message().c_str(),
                     s.last_error().c_str());
        return exit_config;
    }
    if (opt.spool_dead_letters) {
        auto dead = s.dead_letters(std::numeric_limits<std::size_t>::max() / 2);
        if (!dead) {
            std::fprintf(stderr, "aws_post: --spool %s: %s\n", opt.spool.c_str(), s.last_error().c_str());
            return exit_config;
        }
        for (const auto& d : *dead) {
            boost::json::object o{{"id", d.msg.id},
                                  {"topic", d.msg.publish.topic},
                                  {"status", d.status},
                                  {"reason", d.reason},
                                  {"attempts", d.msg.attempts},
                                  {"enqueued", iso_time(d.msg.enqueued_at)},
                                  {"dead", iso_time(d.dead_at)},
                                  {"message", d.msg.publish.payload}};
            std::printf("%s\n", boost::json::serialize(o).c_str());
        }
        return exit_ok;
    }
    auto st = s.statistics();
    if (!st) {
        std::fprintf(stderr, "aws_post: --spool %s: %s\n", opt.spool.c_str(), s.last_error().c_str());
        return exit_config;
    }
    std::printf("Spool %s\n", opt.spool.c_str());
    std::printf("depth: %llu messages, %llu bytes\n", static_cast<unsigned long long>(st->depth),
                static_cast<unsigned long long>(st->bytes));
    if (st->oldest)
        std::printf("oldest: %lld s old (enqueued %s)\n",
                    static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now() - *st->oldest)
                                               .count()),
                    iso_time(*st->oldest).c_str());
    else
        std::printf("oldest: none\n");
    std::printf("dead letters: %llu\n", static_cast<unsigned long long>(st->dead_letters));
    std::printf("dropped (quota): %llu\n", static_cast<unsigned long long>(st->dropped));
    return exit_ok;
}

int run_spool(const options& opt, core::reactor& reactor, http::client& client,
              const aws::publish_request& base,
              std::function<boost::system::error_code(http::request&)> sign) {
    outbox::queue q(reactor.executor(), outbox_options(opt));
    outbox::open_report report;
    if (auto ec = q.open(report)) {
        std::fprintf(stderr, "aws_post: --spool %s: %s\n", opt.spool.c_str(), ec.message().c_str());
        return ec == outbox::error::disk_full ? exit_spool_input : exit_config;
    }
    if (!report.moved_aside_to.empty())
        std::fprintf(stderr, "aws_post: --spool %s: %s (%s): moved aside to %s, starting a new spool\n",
                     opt.spool.c_str(), report.reason.message().c_str(), report.detail.c_str(),
                     report.moved_aside_to.c_str());

    bool input_ended = false;
    bool finished = false;
    std::uint64_t pending = 0, refused = 0, published = 0, dead = 0;
    std::string last_error = "none";
    std::unique_ptr<line_reader> reader;

    const auto maybe_finish = [&] {
        if (input_ended && pending == 0 && q.idle() && !finished) {
            finished = true;
            reactor.stop();
        }
    };
    q.on_idle = maybe_finish;
    q.on_delivered = [&](const outbox::message& m, const outbox::outcome&) {
        ++published;
        if (opt.verbose > 0)
            std::printf("Published %s to %s\n", m.id.c_str(), m.publish.topic.c_str());
    };
    q.on_dead_letter = [&](const outbox::message& m, const outbox::outcome& o) {
        ++dead;
        last_error = o.reason;
        std::printf("Dead letter %s (topic %s): %s\n", m.id.c_str(), m.publish.topic.c_str(),
                    o.reason.c_str());
    };
    q.on_retry = [&](const outbox::message& m, const outbox::outcome& o, milliseconds delay) {
        last_error = o.reason;
        std::printf("Message %s: attempt %u failed: %s; retrying in %lld ms\n", m.id.c_str(), m.attempts + 1,
                    o.reason.c_str(), static_cast<long long>(delay.count()));
        std::fflush(stdout);
    };
    q.on_expired = [&](std::uint64_t n) {
        dead += n;
        std::printf("%llu messages expired (--ttl) to the dead letters\n",
                    static_cast<unsigned long long>(n));
    };
    q.on_error = [&](const boost::system::error_code& ec, const std::string& detail) {
        std::fprintf(stderr, "aws_post: --spool %s: %s (%s); retrying\n", opt.spool.c_str(),
                     ec.message().c_str(), detail.c_str());
    };

    // `then` gets the id, or empty with the reason after a refusal.
    const auto enqueue = [&](outbox::message m, std::string what,
                             std::function<void(const std::string& id, const std::string& error)> then) {
        ++pending;
        q.async_enqueue(m, [&, what = std::move(what), then = std::move(then)](boost::system::error_code ec,
                                                                               std::string id) {
            --pending;
            if (ec) {
                ++refused;
                std::fprintf(stderr, "aws_post: %s: not spooled: %s\n", what.c_str(), ec.message().c_str());
            } else if (opt.verbose > 0) {
                std::printf("Spooled %s as %s\n", what.c_str(), id.c_str());
            }
            std::fflush(stdout);
            if (then)
                then(ec ? std::string() : id, ec ? ec.message() : std::string());
            maybe_finish();
        });
    };
    std::unique_ptr<unix_listener> listener;

    // systemd (Type=notify): READY=1 once the spool is open and draining, STATUS= every second when it
    // changed, WATCHDOG=1 from this loop's timers.
    systemd_notifier notifier(reactor.executor(), [&](std::function<void(std::string)> send) {
        q.async_stats([&, send = std::move(send)](boost::system::error_code ec, outbox::stats st) {
            send(ec ? "spool unreadable: " + ec.message()
                    : "spool depth " + std::to_string(st.depth) + ", published " + std::to_string(published) +
                          ", dead letters " + std::to_string(st.dead_letters) +
                          ", last error: " + last_error);
        });
    });

    reactor.on_stop([&] {
        notifier.stopping();
        q.stop();
        client.cancel_all();
        if (reader)
            reader->stop();
        if (listener)
            listener->stop();
    });

    spool_sender sender(client, base, std::move(sign));
    q.start(std::ref(sender));
    if (notifier.enabled())
        q.async_stats([&](boost::system::error_code, outbox::stats st) {
            notifier.ready("spool depth " + std::to_string(st.depth) + ", published 0, dead letters " +
                           std::to_string(st.dead_letters) + ", last error: none");
        });

    if (opt.from_stdin) {
        reader = std::make_unique<line_reader>(
            reactor.executor(),
            [&](std::string line, std::uint64_t number, bool too_long) {
                const std::string what = "stdin line " + std::to_string(number);
                outbox::message m;
                std::optional<std::string> bad;
                if (too_long)
                    bad = "longer than " + std::to_string(max_line_bytes) + " bytes";
                else
                    bad = parse_line(line, opt, m);
                if (bad) {
                    ++refused;
                    std::fprintf(stderr, "aws_post: %s: not spooled: %s\n", what.c_str(), bad->c_str());
                    reader->next();
                    return;
                }
                enqueue(std::move(m), what, [&](const std::string&, const std::string&) { reader->next(); });
            },
            [&] {
                input_ended = true;
                maybe_finish();
            });
    } else if (!opt.listen.empty()) {
        try {
            listener = std::make_unique<unix_listener>(
                reactor.executor(), opt.listen,
                [&](std::string line, std::string what, std::function<void(std::string)> answer) {
                    outbox::message m;
                    if (auto bad = parse_line(line, opt, m)) {
                        ++refused;
                        std::fprintf(stderr, "aws_post: %s: not spooled: %s\n", what.c_str(), bad->c_str());
                        answer("error: " + *bad);
                        return;
                    }
                    enqueue(std::move(m), what, [answer](const std::string& id, const std::string& error) {
                        answer(id.empty() ? "error: " + error : "ok " + id);
                    });
                });
        } catch (const boost::system::system_error& e) {
            std::fprintf(stderr, "aws_post: --listen unix:%s: %s\n", opt.listen.c_str(),
                         e.code().message().c_str());
            return exit_config;
        }
        std::printf("Listening on unix:%s\n", opt.listen.c_str());
        std::fflush(stdout);
    } else {
        for (std::uint32_t i = 1; i <= opt.count; ++i) {
            outbox::message m;
            m.publish.topic = base.topic;
            m.publish.payload = base.payload;
            m.publish.qos = base.qos;
            m.publish.retain = base.retain;
            enqueue(std::move(m), "message " + std::to_string(i), {});
        }
        input_ended = true;
    }

    reactor.run();
    reader.reset();
    const bool interrupted = !finished;

    auto figures = [&]() -> std::optional<outbox::stats> {
        outbox::store s;
        if (s.open_existing(outbox_options(opt)))
            return std::nullopt;
        auto st = s.statistics();
        return st ? std::optional<outbox::stats>(*st) : std::nullopt;
    };
    const auto st = figures();
    std::printf("Spool: %llu published, %llu dead letters, %llu input lines refused this run; %llu messages "
                "left in %s\n",
                static_cast<unsigned long long>(published), static_cast<unsigned long long>(dead),
                static_cast<unsigned long long>(refused), static_cast<unsigned long long>(st ? st->depth : 0),
                opt.spool.c_str());
    std::fflush(stdout);
    if (interrupted)
        return exit_interrupted;
    return refused ? exit_spool_input : exit_ok;
}

} // namespace aws_post
