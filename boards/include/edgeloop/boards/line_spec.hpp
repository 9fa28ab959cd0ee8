#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeloop::boards {

/// Pull resistor of an input line ("Bias" in a definition).
enum class line_bias { as_is, disabled, pull_up, pull_down };

/// Direction a definition allows for a line ("Direction"); absent = either.
enum class line_direction { input, output };

/// A logical name resolved, through its Mapping chain, down to one concrete line of a driver.
struct line_spec {
    /// The logical name looked up (BUTTON_A).
    std::string name;
    /// The names followed from `name` to the concrete line, both included (one entry when it is concrete).
    std::vector<std::string> chain;
    /// "sim" or "linux".
    std::string driver;
    /// linux: where to find the chip, tried in order: a path (/dev/gpiochip0) or a chip label
    /// (pinctrl-bcm2711). Empty for sim.
    std::vector<std::string> chips;
    /// Line offset on the chip (sim: an identifier shown in events).
    std::uint32_t line = 0;
    /// The line is active (pressed, lit) at low voltage.
    bool active_low = false;
    line_bias bias = line_bias::as_is;
    /// Debounce period for inputs; zero = none.
    std::chrono::milliseconds debounce{0};
    std::optional<line_direction> direction;
    /// sim: the key that presses this button when stdin is a terminal ("a").
    std::string key;
    /// Free text from the definition.
    std::string comment;
    /// Where the concrete line is defined: "<file> $.Peripherals[i]".
    std::string source;
};

const char* to_string(line_bias b) noexcept;
const char* to_string(line_direction d) noexcept;

} // namespace edgeloop::boards
