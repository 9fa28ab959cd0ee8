// gpio::board lookups through boards::board (sim driver, no FIFO, no terminal): names, directions, errors.
#include <edgeloop/boards/board.hpp>

#include <edgeloop/boards/cli_options.hpp>
#include <edgeloop/gpio/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>
#include <boost/test/unit_test.hpp>

namespace boards = edgeloop::boards;
namespace gpio = edgeloop::gpio;
namespace net = boost::asio;
namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

boards::sim_options quiet() {
    boards::sim_options o;
    o.terminal = boards::terminal_mode::off;
    return o;
}

std::string lookup_message(const std::function<void()>& f) {
    try {
        f();
    } catch (const gpio::lookup_error& e) {
        return e.what();
    }
    return "(no lookup_error)";
}

boards::cli_options parse(std::vector<const char*> args) {
    args.insert(args.begin(), "app");
    boards::cli_options cli;
    po::options_description desc;
    boards::add_options(desc, cli);
    po::variables_map vm;
    po::store(po::parse_command_line(static_cast<int>(args.size()), args.data(), desc), vm);
    po::notify(vm);
    return cli;
}

} // namespace

BOOST_AUTO_TEST_SUITE(gpio_board)

BOOST_AUTO_TEST_CASE(lines_are_found_by_logical_name_and_opened_once) {
    net::io_context ioc;
    auto board = boards::open_board(ioc.get_executor(), "sim", quiet());
    BOOST_TEST(board->name() == "sim");
    BOOST_TEST(board->line_names() == (std::vector<std::string>{"BUTTON_A", "BUTTON_B", "LED1", "LED2"}));
    auto& a = board->input("BUTTON_A");
    BOOST_TEST(&a == &board->input("BUTTON_A"));
    BOOST_TEST(a.name() == "BUTTON_A");
    BOOST_TEST(!a.active());
    auto& led = board->output("LED1");
    BOOST_TEST(!led.get(), "LEDs start off");
    led.set(true);
    BOOST_TEST(led.get());
    BOOST_TEST(board->spec("LED1").line == 8u);
    BOOST_TEST(!board->more_presses_possible(), "no terminal, no FIFO, nothing scheduled");
}

BOOST_AUTO_TEST_CASE(an_unknown_name_lists_the_known_ones) {
    net::io_context ioc;
    auto board = boards::open_board(ioc.get_executor(), "sim", quiet());
    BOOST_TEST(lookup_message([&] { board->input("BUTTON_C"); }) ==
               "board 'sim' has no line 'BUTTON_C' (known: BUTTON_A, BUTTON_B, LED1, LED2)");
    BOOST_TEST(lookup_message([&] { board->output("LED9"); }).find("known: BUTTON_A") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_line_is_used_in_the_direction_its_definition_gives) {
    net::io_context ioc;
    auto board = boards::open_board(ioc.get_executor(), "sim", quiet());
    BOOST_TEST(lookup_message([&] { board->input("LED1"); }).find("'LED1' of board 'sim' is an output") !=
               std::string::npos);
    BOOST_TEST(lookup_message([&] { board->output("BUTTON_A"); }).find("is an input") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_line_without_direction_is_opened_one_way_only) {
    net::io_context ioc;
    const auto def =
        boards::resolve_definition("b.json", [](const std::string&) -> std::optional<std::string> {
            return R"({"Metadata": {"Type": "Edgeloop Hardware Definition", "Version": 1},
                   "Peripherals": [{"Name": "PIN", "Driver": "sim", "Line": 3}]})";
        });
    boards::board board(ioc.get_executor(), def, quiet());
    board.output("PIN");
    BOOST_TEST(lookup_message([&] { board.input("PIN"); }) ==
               "line 'PIN' of board 'b' is already open as an output");
}

BOOST_AUTO_TEST_CASE(scheduled_presses_are_pending_until_made) {
    net::io_context ioc;
    auto opts = quiet();
    opts.press_after = {1h, 2h};
    auto board = boards::open_board(ioc.get_executor(), "sim", opts);
    BOOST_TEST(board->scheduled_presses_pending() == 2u);
    BOOST_TEST(board->more_presses_possible());
    board->close();
    BOOST_TEST(board->scheduled_presses_pending() == 0u);
    ioc.run(); // the cancelled timers complete: nothing is left to run
    BOOST_TEST(ioc.stopped());
}

BOOST_AUTO_TEST_CASE(command_line_defaults) {
    const auto cli = parse({});
    BOOST_TEST(cli.board == "sim");
    BOOST_TEST(cli.button == "BUTTON_A");
    BOOST_TEST(cli.led == "LED1");
    BOOST_TEST(cli.sim_fifo.empty());
    BOOST_TEST(cli.sim_press_after_ms.empty());
    const auto sim = cli.sim();
    BOOST_TEST(sim.press_after.empty());
    BOOST_TEST(!sim.verbose);
}

BOOST_AUTO_TEST_CASE(command_line_options_reach_the_sim_options) {
    const auto cli = parse({"--board", "raspberrypi", "--button", "BUTTON_B", "--led=LED2", "--sim-fifo",
                            "/tmp/f", "--sim-press-after", "100", "--sim-press-after", "2500"});
    BOOST_TEST(cli.board == "raspberrypi");
    BOOST_TEST(cli.led == "LED2");
    const auto sim = cli.sim(true);
    BOOST_TEST(sim.fifo == "/tmp/f");
    BOOST_TEST(sim.press_button == "BUTTON_B", "scheduled presses press the app's button");
    BOOST_TEST((sim.press_after == std::vector<std::chrono::milliseconds>{100ms, 2500ms}));
    BOOST_TEST(sim.verbose);
}

BOOST_AUTO_TEST_CASE(a_negative_press_delay_is_a_usage_error) {
    BOOST_CHECK_THROW(parse({"--sim-press-after", "-5"}), po::error);
    BOOST_CHECK_THROW(parse({"--sim-press-after", "soon"}), po::error);
}

BOOST_AUTO_TEST_SUITE_END()
