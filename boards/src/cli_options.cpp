#include <edgeloop/boards/cli_options.hpp>

#include <boost/program_options/errors.hpp>
#include <boost/program_options/value_semantic.hpp>

namespace edgeloop::boards {

namespace po = boost::program_options;

namespace {

constexpr std::int64_t max_press_after_ms = 24LL * 3600 * 1000;

} // namespace

sim_options cli_options::sim(bool verbose) const {
    sim_options o;
    o.fifo = sim_fifo;
    for (const auto ms : sim_press_after_ms)
        o.press_after.emplace_back(ms);
    o.press_button = button;
    o.verbose = verbose;
    return o;
}

void add_options(po::options_description& desc, cli_options& out) {
    desc.add_options()(
        "board", po::value(&out.board)->default_value(out.board)->value_name("NAME|FILE"),
        "hardware definition: a built-in board (sim, raspberrypi, linux-example) or a .json file")(
        "button", po::value(&out.button)->default_value(out.button)->value_name("NAME"),
        "logical name of the button that starts the transfers")(
        "led", po::value(&out.led)->default_value(out.led)->value_name("NAME"),
        "logical name of the LED that blinks while running")(
        "sim-fifo", po::value(&out.sim_fifo)->value_name("PATH"),
        "sim board: read presses from this FIFO, one button name per line (created when missing)")(
        "sim-press-after",
        po::value(&out.sim_press_after_ms)
            ->composing()
            ->value_name("MS")
            ->notifier([](const std::vector<std::int64_t>& v) {
                for (const auto ms : v)
                    if (ms < 0 || ms > max_press_after_ms)
                        throw po::validation_error(po::validation_error::invalid_option_value,
                                                   "sim-press-after", std::to_string(ms));
            }),
        "sim board: press the button this many milliseconds after start (repeatable)");
}

} // namespace edgeloop::boards
