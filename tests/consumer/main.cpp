// Uses the installed edgeloop headers and libraries: a reactor, an HTTP client on it, a parsed URL, and
// the built-in sim board with its LED.

#include <edgeloop/boards.hpp>
#include <edgeloop/core.hpp>
#include <edgeloop/gpio.hpp>
#include <edgeloop/http.hpp>

#include <iostream>

int main() {
    edgeloop::core::reactor reactor;
    edgeloop::http::client client(reactor.executor());

    const auto parts = edgeloop::http::parse_url("https://localhost:8443/topics/a?b=c");
    if (!parts) {
        std::cerr << "parse_url failed: " << parts.error().message() << "\n";
        return 1;
    }
    if (!parts->tls || parts->host != "localhost" || parts->port != 8443 ||
        parts->target != "/topics/a?b=c") {
        std::cerr << "parse_url: unexpected parts of " << parts->authority() << "\n";
        return 2;
    }
    edgeloop::boards::sim_options sim;
    sim.terminal = edgeloop::boards::terminal_mode::off;
    auto board = edgeloop::boards::open_board(reactor.executor(), "sim", sim);
    edgeloop::gpio::output& led = board->output("LED1");
    led.set(true);
    if (!led.get() || board->line_names().size() < 3) {
        std::cerr << "boards: unexpected sim board\n";
        return 3;
    }
    std::cout << "edgeloop consumer: " << parts->authority() << parts->target << ", " << client.active()
              << " active, board " << board->name() << "\n";
    return 0;
}
