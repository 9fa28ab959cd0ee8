#pragma once

#include <edgeloop/gpio/error.hpp>
#include <edgeloop/gpio/input.hpp>
#include <edgeloop/gpio/output.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgeloop::gpio {

/// The lines of a board by logical name (BUTTON_A, LED1). A line is requested from its driver the first
/// time it is looked up, in the direction asked for, and stays open until the board is destroyed.
/// Drivers (boards/) derive from it. Use a board from its executor.
class board {
public:
    board(const board&) = delete;
    board& operator=(const board&) = delete;
    virtual ~board();

    /// The board's name (from its definition).
    const std::string& name() const noexcept { return name_; }
    /// Every logical name the board knows, sorted.
    const std::vector<std::string>& line_names() const noexcept { return names_; }
    bool has_line(std::string_view name) const noexcept;

    /// The input called `name`, opened on first use. Throws lookup_error for an unknown name (listing
    /// the known ones) or a line already open as an output; a driver failure (device missing, busy,
    /// permission denied) is thrown by the driver as boost::system::system_error naming the device.
    gpio::input& input(std::string_view name);
    /// The output called `name`, opened on first use; throws as input() does.
    gpio::output& output(std::string_view name);

    /// Closes every open input (pending and later waits complete with gpio::error::closed) and stops
    /// the drivers' own sources (keyboard, FIFO, timers), so that the loop can drain. Outputs keep their
    /// value. Idempotent.
    void close();
    bool is_closed() const noexcept { return closed_; }

protected:
    board(std::string name, std::vector<std::string> line_names);

    virtual std::unique_ptr<gpio::input> open_input(const std::string& name) = 0;
    virtual std::unique_ptr<gpio::output> open_output(const std::string& name) = 0;
    /// Stops the drivers' sources; called once by close(), after the inputs were closed.
    virtual void close_drivers() {}

private:
    void check_known(std::string_view name) const;

    std::string name_;
    std::vector<std::string> names_;
    std::map<std::string, std::unique_ptr<gpio::input>, std::less<>> inputs_;
    std::map<std::string, std::unique_ptr<gpio::output>, std::less<>> outputs_;
    bool closed_ = false;
};

} // namespace edgeloop::gpio
