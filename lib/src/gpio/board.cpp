#include <edgeloop/gpio/board.hpp>

#include <algorithm>

namespace edgeloop::gpio {

board::board(std::string name, std::vector<std::string> line_names)
    : name_(std::move(name))
    , names_(std::move(line_names)) {
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

board::~board() = default;

bool board::has_line(std::string_view name) const noexcept {
    return std::binary_search(names_.begin(), names_.end(), name);
}

void board::check_known(std::string_view name) const {
    if (has_line(name))
        return;
    std::string known;
    for (const auto& n : names_)
        known += (known.empty() ? "" : ", ") + n;
    throw lookup_error("board '" + name_ + "' has no line '" + std::string(name) +
                       "' (known: " + (known.empty() ? "none" : known) + ")");
}

gpio::input& board::input(std::string_view name) {
    if (auto it = inputs_.find(name); it != inputs_.end())
        return *it->second;
    check_known(name);
    if (outputs_.count(name) != 0)
        throw lookup_error("line '" + std::string(name) + "' of board '" + name_ +
                           "' is already open as an output");
    auto in = open_input(std::string(name));
    if (closed_)
        in->close();
    return *inputs_.emplace(std::string(name), std::move(in)).first->second;
}

gpio::output& board::output(std::string_view name) {
    if (auto it = outputs_.find(name); it != outputs_.end())
        return *it->second;
    check_known(name);
    if (inputs_.count(name) != 0)
        throw lookup_error("line '" + std::string(name) + "' of board '" + name_ +
                           "' is already open as an input");
    auto out = open_output(std::string(name));
    return *outputs_.emplace(std::string(name), std::move(out)).first->second;
}

void board::close() {
    if (closed_)
        return;
    closed_ = true;
    for (auto& [name, in] : inputs_)
        in->close();
    close_drivers();
}

} // namespace edgeloop::gpio
