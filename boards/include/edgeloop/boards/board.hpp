#pragma once

#include <edgeloop/boards/definition.hpp>
#include <edgeloop/boards/sim_options.hpp>
#include <edgeloop/gpio/board.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace edgeloop::boards {

namespace sim {
class context;
} // namespace sim

/// A gpio::board built from a hardware definition: each line is opened by the driver its definition
/// names (sim or linux) when the application first looks it up.
class board final : public gpio::board {
public:
    /// Starts the sim driver's sources (FIFO, keyboard, scheduled presses) when the definition has sim
    /// lines. Throws boost::system::system_error when the FIFO cannot be used.
    board(boost::asio::any_io_executor ex, definition def, sim_options sim = {});
    ~board() override;

    const definition& def() const noexcept { return def_; }
    /// The resolved line called `name` (throws gpio::lookup_error like input()).
    const line_spec& spec(std::string_view name) const;

    /// True when a press may come at any time: the sim keyboard or FIFO is read, or a hardware input
    /// is open. An application without a terminal ends once this is false and
    /// scheduled_presses_pending() is 0.
    bool live_input() const noexcept;
    /// Scheduled sim presses (sim_options::press_after) not yet made. A press is counted as made just
    /// before it is delivered.
    std::size_t scheduled_presses_pending() const noexcept;
    bool more_presses_possible() const noexcept { return live_input() || scheduled_presses_pending() > 0; }

protected:
    std::unique_ptr<gpio::input> open_input(const std::string& name) override;
    std::unique_ptr<gpio::output> open_output(const std::string& name) override;
    void close_drivers() override;

private:
    boost::asio::any_io_executor ex_;
    definition def_;
    std::shared_ptr<sim::context> sim_;
    bool hardware_input_ = false;
};

/// Loads the definition (load_definition: a built-in name or a .json file) and builds its board.
/// Throws definition_error for a bad definition, boost::system::system_error for a bad FIFO.
std::unique_ptr<board> open_board(boost::asio::any_io_executor ex, std::string_view name_or_file,
                                  sim_options sim = {});

} // namespace edgeloop::boards
