#include "sim/context.hpp"

#include <edgeloop/boards/board.hpp>
#include <edgeloop/boards/linux/request.hpp>
#include <edgeloop/core/log.hpp>

namespace edgeloop::boards {

board::board(boost::asio::any_io_executor ex, definition def, sim_options sim)
    : gpio::board(def.name, def.names())
    , ex_(std::move(ex))
    , def_(std::move(def)) {
    std::vector<line_spec> sim_lines;
    for (const auto& l : def_.lines)
        if (l.driver == "sim")
            sim_lines.push_back(l);
    if (sim_lines.empty()) {
        if (!sim.fifo.empty() || !sim.press_after.empty())
            core::log::write(core::log_level::warn,
                             "board '" + name() +
                                 "' has no simulated lines: the sim FIFO and scheduled "
                                 "presses do nothing");
        return;
    }
    sim_ = std::make_shared<sim::context>(ex_, std::move(sim), std::move(sim_lines));
    sim_->start();
}

board::~board() {
    if (sim_)
        sim_->stop();
}

const line_spec& board::spec(std::string_view line_name) const {
    if (const auto* s = def_.find(line_name))
        return *s;
    std::string known;
    for (const auto& n : line_names())
        known += (known.empty() ? "" : ", ") + n;
    throw gpio::lookup_error("board '" + name() + "' has no line '" + std::string(line_name) +
                             "' (known: " + known + ")");
}

bool board::live_input() const noexcept {
    return !is_closed() && (hardware_input_ || (sim_ && sim_->live()));
}

std::size_t board::scheduled_presses_pending() const noexcept {
    return sim_ && !is_closed() ? sim_->scheduled_pending() : 0;
}

std::unique_ptr<gpio::input> board::open_input(const std::string& line_name) {
    const auto& s = spec(line_name);
    if (s.direction == line_direction::output)
        throw gpio::lookup_error("line '" + line_name + "' of board '" + name() + "' is an output (" +
                                 s.source + ")");
    if (s.driver == "sim")
        return sim_->make_input(s);
    auto in = linux_cdev::open_input(ex_, s);
    hardware_input_ = true;
    return in;
}

std::unique_ptr<gpio::output> board::open_output(const std::string& line_name) {
    const auto& s = spec(line_name);
    if (s.direction == line_direction::input)
        throw gpio::lookup_error("line '" + line_name + "' of board '" + name() + "' is an input (" +
                                 s.source + ")");
    if (s.driver == "sim")
        return sim_->make_output(s);
    return linux_cdev::open_output(s);
}

void board::close_drivers() {
    if (sim_)
        sim_->stop();
}

std::unique_ptr<board> open_board(boost::asio::any_io_executor ex, std::string_view name_or_file,
                                  sim_options sim) {
    return std::make_unique<board>(std::move(ex), load_definition(name_or_file), std::move(sim));
}

} // namespace edgeloop::boards
