// Enqueue rate of the outbox store (tests/bench/outbox_run): N messages of 100 bytes committed one by one,
// each its own transaction, as aws_post --spool commits each input line.
//   outbox_bench PATH N full|normal
#include <edgeloop/outbox/store.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: outbox_bench PATH N full|normal\n");
        return 2;
    }
    edgeloop::outbox::options o;
    o.path = argv[1];
    o.sync = std::string(argv[3]) == "normal" ? edgeloop::outbox::durability::normal
                                              : edgeloop::outbox::durability::full;
    const long n = std::atol(argv[2]);
    edgeloop::outbox::store s;
    edgeloop::outbox::open_report report;
    if (auto ec = s.open(o, report)) {
        std::fprintf(stderr, "outbox_bench: %s: %s\n", ec.message().c_str(), s.last_error().c_str());
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
        edgeloop::outbox::message m;
        m.publish.topic = "bench/enqueue";
        m.publish.payload = std::string(90, 'x') + std::to_string(1000000000 + i);
        if (auto r = s.enqueue(m, std::chrono::system_clock::now()); !r) {
            std::fprintf(stderr, "outbox_bench: %s: %s\n", r.error().message().c_str(),
                         s.last_error().c_str());
            return 1;
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("enqueue %s: %ld messages in %.3f s: %.0f messages/s\n", argv[3], n, secs, n / secs);
    return 0;
}
