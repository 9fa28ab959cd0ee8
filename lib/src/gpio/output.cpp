#include <edgeloop/gpio/output.hpp>

#include <boost/system/system_error.hpp>

namespace edgeloop::gpio {

output::output(std::string name, bool initial)
    : name_(std::move(name))
    , value_(initial) {}

output::~output() = default;

void output::set(bool on) {
    boost::system::error_code ec;
    set(on, ec);
    if (ec)
        throw boost::system::system_error(ec, "cannot switch " + name_ + (on ? " on" : " off"));
}

void output::set(bool on, boost::system::error_code& ec) noexcept {
    ec = {};
    write(on, ec);
    if (!ec)
        value_ = on;
}

} // namespace edgeloop::gpio
