// aws_post --spool (issue 15): store and forward against the devserver (mutual TLS), which records every
// publish it receives and scripts faults through publish_hook; aws_post runs as a child process.
#include <support/process.hpp>

#include <edgeloop/devserver.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

enum : int { exit_ok = 0, exit_usage = 2, exit_interrupted = 4, exit_spool_input = 8 };

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

/// The devserver on a thread of its own, recording every publish that arrived (accepted or answer lost).
struct recording_server {
    boost::asio::io_context ioc;
    std::mutex mutex;
    std::vector<edgeloop::devserver::received_publish> received;
    std::function<unsigned(const edgeloop::devserver::received_publish&, std::size_t n)> verdict;
    std::size_t seen = 0;
    std::unique_ptr<edgeloop::devserver::server> dev;
    std::string dir = make_temp_dir("aws_post_spool");
    std::string cert, key;
    std::thread loop;

    explicit recording_server(std::size_t close_after = 0) {
        edgeloop::devserver::options o{.require_client_certificate = true};
        o.close_after_requests = close_after;
        o.publish_hook = [this](const edgeloop::devserver::received_publish& p) -> unsigned {
            std::lock_guard lock(mutex);
            const unsigned v = verdict ? verdict(p, seen++) : 0;
            if (v == 0 || v == 200 || v == edgeloop::devserver::publish_dropped)
                received.push_back(p);
            return v;
        };
        dev = std::make_unique<edgeloop::devserver::server>(ioc.get_executor(), o);
        std::tie(cert, key) = dev->issue_client_certificate(dir);
        loop = std::thread([this] { ioc.run(); });
    }
    ~recording_server() {
        boost::asio::post(ioc, [this] { dev->stop(); });
        loop.join();
    }
    void set_verdict(std::function<unsigned(const edgeloop::devserver::received_publish&, std::size_t)> v) {
        std::lock_guard lock(mutex);
        verdict = std::move(v);
    }
    std::vector<edgeloop::devserver::received_publish> publishes() {
        std::lock_guard lock(mutex);
        return received;
    }
    std::vector<std::string> connection_args() const {
        return {"--endpoint",
                "127.0.0.1",
                "--port",
                std::to_string(dev->port()),
                "--cacert",
                dev->ca_file(),
                "--cert",
                cert,
                "--key",
                key,
                "--backoff-base-ms",
                "5",
                "--backoff-max-ms",
                "50"};
    }
};

std::string user_property(const edgeloop::devserver::received_publish& p, const std::string& name) {
    for (const auto& up : p.user_properties)
        if (up.name == name)
            return up.value;
    return {};
}

/// aws_post with stdin from `input` (a file or a FIFO), its output in `log`.
child_process start_aws_post(std::vector<std::string> args, const std::string& input,
                             const std::string& log) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" < \"$EDGELOOP_SPOOL_INPUT\"",
                                     AWS_POST_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return child_process(argv, log, {"EDGELOOP_SPOOL_INPUT=" + input});
}

struct run_result {
    int status = -1;
    std::string output;
};

run_result run_to_end(const std::vector<std::string>& args, const std::string& input, const std::string& log,
                      std::chrono::milliseconds limit = 30s) {
    auto p = start_aws_post(args, input, log);
    auto status = p.wait_for_exit(limit);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "aws_post did not exit in time:\n" << read_file(log));
    return {*status, read_file(log)};
}

std::string write_lines(const std::string& path, const std::vector<std::string>& lines) {
    std::ofstream f(path);
    for (const auto& l : lines)
        f << l << "\n";
    return path;
}

std::string line(const std::string& topic, const std::string& message) {
    return R"({"topic":")" + topic + R"(","message":")" + message + "\"}";
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_post_spool)

BOOST_AUTO_TEST_CASE(stdin_lines_are_published_in_order_with_a_message_id_and_it_exits_when_done) {
    recording_server srv(7); // the server closes the connection every 7 requests
    std::vector<std::string> lines;
    for (int i = 0; i < 30; ++i)
        lines.push_back(line(i % 2 ? "odd" : "even", std::to_string(i)));
    lines.push_back(R"({"message":{"json":true},"qos":0,"retain":true,"topic":"obj"})");
    const auto in = write_lines(srv.dir + "/in.txt", lines);
    const auto spool = srv.dir + "/spool.db";
    auto r = run_to_end(with(srv.connection_args(), {"--spool", spool, "--stdin", "-v"}), in,
                        srv.dir + "/run.log");
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(
        contains(r.output,
                 "Spool: 31 published, 0 dead letters, 0 input lines refused this run; 0 messages left"),
        r.output);
    const auto got = srv.publishes();
    BOOST_REQUIRE(got.size() >= 31u);
    std::vector<std::string> payloads;
    std::set<std::string> ids;
    for (const auto& p : got) {
        payloads.push_back(p.payload);
        ids.insert(user_property(p, "edgeloop-message-id"));
    }
    std::vector<std::string> expected;
    for (int i = 0; i < 30; ++i)
        expected.push_back(std::to_string(i));
    expected.push_back(R"({"json":true})");
    BOOST_TEST(payloads == expected);
    BOOST_TEST(ids.size() == 31u);
    BOOST_TEST(!ids.count(""));
    BOOST_TEST(got.back().qos == 0);
    BOOST_TEST(got.back().retain);
    BOOST_TEST(got.back().topic == "obj");
    BOOST_TEST(got[1].topic == "odd");
    // One kept-alive connection, reopened only when the server closed it.
    BOOST_TEST(srv.dev->connections_accepted() <= 6u);
}

BOOST_AUTO_TEST_CASE(bad_lines_are_refused_by_number_and_the_others_published) {
    recording_server srv;
    const auto in =
        write_lines(srv.dir + "/in.txt", {line("t", "a"), "not json", R"({"topic":"x"})", line("bad/#", "b"),
                                          R"({"message":"q","qos":2})", line("t", "c")});
    auto r = run_to_end(with(srv.connection_args(), {"--spool", srv.dir + "/s.db", "--stdin"}), in,
                        srv.dir + "/run.log");
    BOOST_TEST(r.status == exit_spool_input, r.output);
    BOOST_TEST(contains(r.output, "stdin line 2: not spooled: not JSON"), r.output);
    BOOST_TEST(contains(r.output, "stdin line 3: not spooled: no \"message\""), r.output);
    BOOST_TEST(contains(r.output, "stdin line 4: not spooled: topic 'bad/#'"), r.output);
    BOOST_TEST(contains(r.output, "stdin line 5: not spooled: \"qos\" must be 0 or 1"), r.output);
    const auto got = srv.publishes();
    BOOST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[0].payload == "a");
    BOOST_TEST(got[1].payload == "c");
}

BOOST_AUTO_TEST_CASE(sigterm_stops_at_once_keeping_the_rest_and_a_restart_publishes_leftovers_first) {
    recording_server srv;
    srv.set_verdict([](const auto&, std::size_t) { return 503u; }); // the service is down
    const auto spool = srv.dir + "/s.db";
    // A FIFO kept open by the test: input has not ended when SIGTERM comes.
    const auto fifo = srv.dir + "/in.fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    BOOST_REQUIRE(writer >= 0);
    const std::string log = srv.dir + "/first.log";
    auto p = start_aws_post(with(srv.connection_args(), {"--spool", spool, "--stdin", "-v"}), fifo, log);
    std::string text;
    for (int i = 0; i < 5; ++i)
        text += line("t", "old" + std::to_string(i)) + "\n";
    BOOST_REQUIRE(::write(writer, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    BOOST_REQUIRE_MESSAGE(wait_for_text(log, "Spooled stdin line 5 as", 10s), read_file(log));
    BOOST_REQUIRE_MESSAGE(wait_for_text(log, "retrying in", 10s), read_file(log));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(3s);
    ::close(writer);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "SIGTERM did not stop it at once:\n" << read_file(log));
    BOOST_TEST(*status == exit_interrupted, read_file(log));
    BOOST_TEST(contains(read_file(log), "5 messages left in"), read_file(log));

    auto st = run_to_end({"--spool", spool, "--status"}, "/dev/null", srv.dir + "/status.log");
    BOOST_TEST(st.status == exit_ok, st.output);
    BOOST_TEST(contains(st.output, "depth: 5 messages"), st.output);

    srv.set_verdict({}); // the service is back
    const auto in = write_lines(srv.dir + "/in2.txt", {line("t", "new0"), line("u", "new1")});
    auto r =
        run_to_end(with(srv.connection_args(), {"--spool", spool, "--stdin"}), in, srv.dir + "/second.log");
    BOOST_TEST(r.status == exit_ok, r.output);
    std::vector<std::string> payloads;
    for (const auto& pub : srv.publishes())
        payloads.push_back(pub.payload);
    BOOST_TEST(payloads ==
               (std::vector<std::string>{"old0", "old1", "old2", "old3", "old4", "new0", "new1"}));
}

BOOST_AUTO_TEST_CASE(non_retryable_answers_become_dead_letters_and_the_queue_moves_on) {
    recording_server srv;
    srv.set_verdict([](const auto& p, std::size_t) { return p.payload == "refused" ? 403u : 0u; });
    const auto spool = srv.dir + "/s.db";
    const auto in = write_lines(srv.dir + "/in.txt", {line("t", "a"), line("t", "refused"), line("t", "b")});
    auto r = run_to_end(with(srv.connection_args(), {"--spool", spool, "--stdin"}), in, srv.dir + "/run.log");
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "Dead letter "), r.output);
    BOOST_TEST(contains(r.output, "Spool: 2 published, 1 dead letters"), r.output);
    auto dl = run_to_end({"--spool", spool, "--dead-letters"}, "/dev/null", srv.dir + "/dl.log");
    BOOST_TEST(dl.status == exit_ok, dl.output);
    const auto first = dl.output.substr(0, dl.output.find('\n'));
    const auto v = boost::json::parse(first).as_object();
    BOOST_TEST(v.at("status").as_int64() == 403);
    BOOST_TEST(v.at("message").as_string() == "refused");
    BOOST_TEST(v.at("topic").as_string() == "t");
    BOOST_TEST(contains(std::string(v.at("reason").as_string()), "403"));
    auto st = run_to_end({"--spool", spool, "--status"}, "/dev/null", srv.dir + "/status.log");
    BOOST_TEST(contains(st.output, "dead letters: 1"), st.output);
    BOOST_TEST(contains(st.output, "depth: 0 messages"), st.output);
}

BOOST_AUTO_TEST_CASE(drop_oldest_quota_and_ttl_through_the_command_line) {
    recording_server srv;
    srv.set_verdict([](const auto&, std::size_t) { return 503u; });
    const auto spool = srv.dir + "/s.db";
    // 1/1024 MiB = 1024 bytes: three messages of ~300 bytes fit, the oldest make room for the others.
    std::vector<std::string> lines;
    for (int i = 0; i < 6; ++i)
        lines.push_back(line("t", std::string(300, 'a' + static_cast<char>(i))));
    const auto fifo = srv.dir + "/in.fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    const std::string log = srv.dir + "/run.log";
    auto p = start_aws_post(with(srv.connection_args(), {"--spool", spool, "--stdin", "-v", "--spool-max-mb",
                                                         "0.0009765625", "--spool-policy", "drop-oldest"}),
                            fifo, log);
    std::string text;
    for (const auto& l : lines)
        text += l + "\n";
    BOOST_REQUIRE(::write(writer, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    BOOST_REQUIRE_MESSAGE(wait_for_text(log, "Spooled stdin line 6 as", 10s), read_file(log));
    p.signal(SIGTERM);
    BOOST_REQUIRE(p.wait_for_exit(5s).has_value());
    ::close(writer);
    auto st = run_to_end({"--spool", spool, "--status"}, "/dev/null", srv.dir + "/status.log");
    BOOST_TEST(contains(st.output, "depth: 3 messages"), st.output);
    BOOST_TEST(contains(st.output, "dropped (quota): 3"), st.output);

    // TTL: after a second, --ttl 1 sends the waiting messages to the dead letters instead.
    std::this_thread::sleep_for(1100ms);
    srv.set_verdict({});
    auto r = run_to_end(with(srv.connection_args(), {"--spool", spool, "--stdin", "--ttl", "1"}), "/dev/null",
                        srv.dir + "/ttl.log");
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "3 messages expired (--ttl) to the dead letters"), r.output);
    auto dl = run_to_end({"--spool", spool, "--dead-letters"}, "/dev/null", srv.dir + "/dl.log");
    BOOST_TEST(contains(dl.output, "expired: not delivered within the TTL of 1 s"), dl.output);
}

BOOST_AUTO_TEST_CASE(a_corrupt_spool_is_moved_aside_and_reported) {
    recording_server srv;
    const auto spool = srv.dir + "/s.db";
    {
        std::ofstream f(spool);
        f << std::string(5000, 'Z');
    }
    const auto in = write_lines(srv.dir + "/in.txt", {line("t", "after")});
    auto r = run_to_end(with(srv.connection_args(), {"--spool", spool, "--stdin"}), in, srv.dir + "/run.log");
    BOOST_TEST(r.status == exit_ok, r.output);
    BOOST_TEST(contains(r.output, "outbox database corrupt"), r.output);
    BOOST_TEST(contains(r.output, "moved aside to " + spool + ".corrupt-"), r.output);
    bool kept = false;
    for (const auto& e : std::filesystem::directory_iterator(srv.dir))
        if (e.path().string().starts_with(spool + ".corrupt-") && !e.path().string().ends_with("-wal") &&
            !e.path().string().ends_with("-shm"))
            kept = read_file(e.path().string()) == std::string(5000, 'Z');
    BOOST_TEST(kept);
    BOOST_REQUIRE(srv.publishes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(listen_socket_lines_are_answered_after_their_commit) {
    recording_server srv;
    const auto sock_path = srv.dir + "/in.sock";
    const std::string log = srv.dir + "/listen.log";
    child_process p(with({AWS_POST_BIN}, with(srv.connection_args(), {"--spool", srv.dir + "/s.db",
                                                                      "--listen", "unix:" + sock_path})),
                    log);
    BOOST_REQUIRE_MESSAGE(wait_for_text(log, "Listening on unix:", 10s), read_file(log));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string text = line("t", "one") + "\n" + "{bad\n" + line("u", "two") + "\n";
    BOOST_REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    std::string replies;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::count(replies.begin(), replies.end(), '\n') < 3 &&
           std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, 200) <= 0)
            continue;
        char buf[512];
        const auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        replies.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto first = replies.find('\n');
    BOOST_TEST(replies.starts_with("ok "), replies);
    BOOST_TEST(replies.substr(first + 1).starts_with("error: not JSON"), replies);
    BOOST_TEST(replies.find("\nok ", first + 1) != std::string::npos, replies);
    for (int i = 0; i < 100 && srv.publishes().size() < 2; ++i)
        std::this_thread::sleep_for(50ms); // the drain runs on after the answers
    p.signal(SIGTERM);
    const auto status = p.wait_for_exit(5s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == exit_interrupted, read_file(log));
    const auto got = srv.publishes();
    BOOST_REQUIRE(got.size() == 2u);
    BOOST_TEST(got[0].payload == "one");
    BOOST_TEST(got[1].payload == "two");
    BOOST_TEST(user_property(got[0], "edgeloop-message-id") == replies.substr(3, first - 3));
    BOOST_TEST(!std::filesystem::exists(sock_path));
}

BOOST_AUTO_TEST_CASE(spool_options_without_spool_are_usage_errors) {
    const std::string dir = make_temp_dir("aws_post_spool_usage");
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--demo", "--stdin"},
             {"--demo", "--status"},
             {"--demo", "--spool", dir + "/s.db", "--spool-policy", "x"},
             {"--demo", "--spool", dir + "/s.db", "--stdin", "--message", "m"},
             {"--demo", "--spool", dir + "/s.db", "--max-rate", "0"},
             {"--demo", "--spool", dir + "/s.db", "--listen", "tcp:1"},
             {"--demo", "--spool", dir + "/s.db", "--listen", "unix:x", "--stdin"}}) {
        auto r = run_to_end(args, "/dev/null", dir + "/usage.log");
        BOOST_TEST(r.status == exit_usage, r.output);
    }
    auto r = run_to_end({"--spool", dir + "/missing.db", "--status"}, "/dev/null", dir + "/missing.log");
    BOOST_TEST(r.status == 3, r.output);
    BOOST_TEST(contains(r.output, dir + "/missing.db"), r.output);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

std::size_t env_number(const char* name, std::size_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? static_cast<std::size_t>(std::stoull(v)) : fallback;
}

/// The highest "Spooled stdin line N as" in a log: lines up to N were committed and acknowledged.
std::size_t last_acknowledged(const std::string& log) {
    std::size_t best = 0, pos = 0;
    const std::string mark = "Spooled stdin line ";
    while ((pos = log.find(mark, pos)) != std::string::npos) {
        pos += mark.size();
        best = std::max<std::size_t>(best, std::stoull(log.substr(pos, log.find(' ', pos) - pos)));
    }
    return best;
}

} // namespace

BOOST_AUTO_TEST_SUITE(aws_post_spool_crash)

// N messages on 4 topics fed to aws_post --spool --stdin while the server answers 503 now and then, loses
// answers (closes the connection after receiving a publish) and closes connections every 40 requests;
// aws_post is SIGKILLed at random moments, restarted each time with the input lines not yet acknowledged,
// and finally left to finish. Then every message arrived at least once, in order per topic, and the only
// duplicates are repeats of one message in a row (the one in flight at a kill or a lost answer, or a line
// committed but not yet acknowledged at a kill). EDGELOOP_CRASH_MESSAGES / EDGELOOP_CRASH_KILLS /
// EDGELOOP_CRASH_SEED make it larger (README: the long variant).
BOOST_AUTO_TEST_CASE(sigkill_at_random_moments_loses_nothing_and_keeps_the_order) {
    const std::size_t messages = env_number("EDGELOOP_CRASH_MESSAGES", 1000);
    const std::size_t kills = env_number("EDGELOOP_CRASH_KILLS", 10);
    const auto seed = static_cast<std::uint32_t>(env_number("EDGELOOP_CRASH_SEED", std::random_device{}()));
    BOOST_TEST_MESSAGE("crash test: " << messages << " messages, " << kills << " kills, seed " << seed);
    std::mt19937 random(seed);

    recording_server srv(40);
    std::size_t errors = 0, drops = 0;
    srv.set_verdict([&](const auto&, std::size_t n) -> unsigned {
        if (n % 23 == 5) {
            ++errors;
            return 503;
        }
        if (n % 37 == 11) {
            ++drops;
            return edgeloop::devserver::publish_dropped;
        }
        return 0;
    });
    std::vector<std::string> lines;
    std::map<std::string, std::size_t> per_topic;
    for (std::size_t i = 0; i < messages; ++i) {
        const std::string topic = "crash/" + std::to_string(i % 4);
        lines.push_back(line(topic, std::to_string(per_topic[topic]++)));
    }
    const auto spool = srv.dir + "/s.db";
    const auto args = with(srv.connection_args(), {"--spool", spool, "--stdin", "-v"});
    std::size_t next = 0; // first input line not yet acknowledged
    std::size_t killed = 0;
    for (std::size_t run = 0; run < kills; ++run) {
        const auto in =
            write_lines(srv.dir + "/in" + std::to_string(run) + ".txt",
                        std::vector<std::string>(lines.begin() + static_cast<long>(next), lines.end()));
        const auto log = srv.dir + "/run" + std::to_string(run) + ".log";
        auto p = start_aws_post(args, in, log);
        const auto after = std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(random));
        if (p.wait_for_exit(after).has_value()) {
            BOOST_TEST_MESSAGE("run " << run << " finished before its kill");
        } else {
            p.signal(SIGKILL);
            BOOST_REQUIRE(p.wait_for_exit(5s).has_value());
            ++killed;
        }
        next += last_acknowledged(read_file(log));
    }
    const auto in =
        write_lines(srv.dir + "/in-last.txt",
                    std::vector<std::string>(lines.begin() + static_cast<long>(next), lines.end()));
    auto r = run_to_end(args, in, srv.dir + "/last.log", 60s);
    BOOST_TEST(r.status == exit_ok, r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0));
    BOOST_TEST(killed >= std::min<std::size_t>(kills, 10));

    // Per topic: the payloads with repeats in a row collapsed are exactly 0, 1, 2, ...
    std::map<std::string, std::vector<std::size_t>> seen;
    std::size_t duplicates = 0;
    for (const auto& p : srv.publishes()) {
        auto& v = seen[p.topic];
        const auto n = static_cast<std::size_t>(std::stoull(p.payload));
        if (!v.empty() && v.back() == n) {
            ++duplicates;
            continue;
        }
        v.push_back(n);
    }
    BOOST_TEST(seen.size() == 4u);
    for (const auto& [topic, v] : seen) {
        std::vector<std::size_t> expected(per_topic[topic]);
        for (std::size_t i = 0; i < expected.size(); ++i)
            expected[i] = i;
        BOOST_TEST(v == expected, "topic " << topic);
    }
    BOOST_TEST_MESSAGE("delivered " << messages << " messages with " << duplicates << " repeats; " << killed
                                    << " kills, " << errors << " 503s, " << drops << " lost answers");
    // Each kill repeats at most the message in flight and a line committed but not acknowledged; each lost
    // answer at most its message (twice: the client's own resend on a fresh connection, then the retry).
    BOOST_TEST(duplicates <= 2 * killed + 2 * drops);
    BOOST_TEST(errors > 0u);
    BOOST_TEST(drops > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(aws_post_spool_faults)

// A full disk: the spool on a 512 KiB tmpfs the test mounts (root only) and fills to ~200 KiB free with a
// ballast file (another program's logs, say), the service down so nothing drains, lines of 20 KB until the
// file system is full. Each refused line is an error naming it, the program goes on, and once the ballast
// is gone and the service back, every line acknowledged before is published, in order.
BOOST_AUTO_TEST_CASE(disk_full_refuses_new_lines_and_keeps_the_earlier_ones) {
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: mounting a small tmpfs needs root");
        return;
    }
    recording_server srv;
    srv.set_verdict([](const auto&, std::size_t) { return 503u; });
    const auto mnt = srv.dir + "/small";
    std::filesystem::create_directory(mnt);
    BOOST_REQUIRE(std::system(("mount -t tmpfs -o size=512k tmpfs '" + mnt + "'").c_str()) == 0);
    struct unmount {
        std::string path;
        ~unmount() { [[maybe_unused]] int rc = std::system(("umount -l '" + path + "'").c_str()); }
    } guard{mnt};
    const auto spool = mnt + "/s.db";
    {
        std::ofstream ballast(mnt + "/ballast");
        ballast << std::string(312 * 1024, 'b');
    }
    const auto fifo = srv.dir + "/in.fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    const std::string log = srv.dir + "/full.log";
    auto p = start_aws_post(with(srv.connection_args(), {"--spool", spool, "--stdin", "-v"}), fifo, log);
    std::string text;
    for (int i = 0; i < 20; ++i)
        text += line("t", std::to_string(i) + ":" + std::string(20000, 'x')) + "\n";
    std::thread feed([&] { [[maybe_unused]] auto n = ::write(writer, text.data(), text.size()); });
    const bool full = wait_for_text(log, "not spooled: disk full", 20s);
    const bool last = wait_for_text(log, "stdin line 20: not spooled", 20s);
    feed.join();
    p.signal(SIGTERM);
    const auto status = p.wait_for_exit(5s);
    ::close(writer);
    BOOST_REQUIRE_MESSAGE(full && last, read_file(log));
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == exit_interrupted, read_file(log));
    const auto acked = last_acknowledged(read_file(log));
    BOOST_TEST(acked >= 3u);
    BOOST_TEST(acked < 20u);

    auto st = run_to_end({"--spool", spool, "--status"}, "/dev/null", srv.dir + "/status.log");
    BOOST_TEST(contains(st.output, "depth: " + std::to_string(acked) + " messages"), st.output);

    std::filesystem::remove(mnt + "/ballast");
    srv.set_verdict({});
    auto r = run_to_end(with(srv.connection_args(), {"--spool", spool, "--stdin"}), "/dev/null",
                        srv.dir + "/after.log");
    BOOST_TEST(r.status == exit_ok, r.output);
    std::vector<std::string> got;
    for (const auto& pub : srv.publishes())
        got.push_back(pub.payload.substr(0, pub.payload.find(':')));
    std::vector<std::string> expected;
    for (std::size_t i = 0; i < acked; ++i)
        expected.push_back(std::to_string(i));
    BOOST_TEST(got == expected);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(aws_post_systemd)

// Type=notify: the test is systemd's side of the protocol, a datagram socket named by NOTIFY_SOCKET.
BOOST_AUTO_TEST_CASE(ready_status_and_watchdog_reach_the_notify_socket) {
    recording_server srv;
    srv.set_verdict([](const auto&, std::size_t) { return 503u; });
    const auto sock_path = srv.dir + "/notify.sock";
    const int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(sock >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    BOOST_REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const auto fifo = srv.dir + "/in.fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    const std::string text = line("t", "a") + "\n" + line("t", "b") + "\n";
    BOOST_REQUIRE(::write(writer, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" < \"$EDGELOOP_SPOOL_INPUT\"",
                                     AWS_POST_BIN};
    for (const auto& a : with(srv.connection_args(), {"--spool", srv.dir + "/s.db", "--stdin"}))
        argv.push_back(a);
    const std::string log = srv.dir + "/notify.log";
    child_process p(argv, log,
                    {"EDGELOOP_SPOOL_INPUT=" + fifo, "NOTIFY_SOCKET=" + sock_path, "WATCHDOG_USEC=200000"});

    std::vector<std::string> messages;
    bool ready = false, status_with_depth = false;
    int watchdogs = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && !(ready && status_with_depth && watchdogs >= 3)) {
        pollfd pfd{sock, POLLIN, 0};
        if (::poll(&pfd, 1, 200) <= 0)
            continue;
        char buf[4096];
        const auto n = ::recv(sock, buf, sizeof buf, 0);
        if (n <= 0)
            continue;
        const std::string m(buf, static_cast<std::size_t>(n));
        messages.push_back(m);
        ready = ready || contains(m, "READY=1");
        status_with_depth =
            status_with_depth || (contains(m, "STATUS=spool depth 2") && contains(m, "last error: 503"));
        watchdogs += contains(m, "WATCHDOG=1") ? 1 : 0;
    }
    p.signal(SIGTERM);
    BOOST_REQUIRE(p.wait_for_exit(5s).has_value());
    bool stopping = false;
    for (pollfd pfd{sock, POLLIN, 0}; ::poll(&pfd, 1, 500) > 0;) {
        char buf[4096];
        const auto n = ::recv(sock, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        const std::string m(buf, static_cast<std::size_t>(n));
        messages.push_back(m);
        stopping = stopping || contains(m, "STOPPING=1");
    }
    ::close(writer);
    ::close(sock);
    std::string all;
    for (const auto& m : messages)
        all += "[" + m + "] ";
    BOOST_TEST(ready, all);
    BOOST_TEST(status_with_depth, all);
    BOOST_TEST(watchdogs >= 3, all);
    BOOST_TEST(stopping, all);
}

BOOST_AUTO_TEST_SUITE_END()
