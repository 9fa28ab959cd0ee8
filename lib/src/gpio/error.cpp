#include <edgeloop/gpio/edge_event.hpp>
#include <edgeloop/gpio/error.hpp>

namespace edgeloop::gpio {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.gpio"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::closed:
            return "GPIO input closed";
        case error::wait_pending:
            return "another wait on this GPIO input is pending";
        }
        return "unknown edgeloop.gpio error";
    }
};

} // namespace

const boost::system::error_category& gpio_category() noexcept {
    static const category instance;
    return instance;
}

const char* to_string(edge e) noexcept {
    return e == edge::rising ? "rising" : "falling";
}

} // namespace edgeloop::gpio
