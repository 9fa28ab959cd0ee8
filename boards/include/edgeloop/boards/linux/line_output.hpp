#pragma once

#include <edgeloop/gpio/output.hpp>

#include <string>

namespace edgeloop::boards::linux_cdev {

/// An output driven through a GPIO line request fd with GPIO_V2_LINE_SET_VALUES_IOCTL. Values are
/// logical: the request carries the active-low flag, so the kernel inverts.
class line_output final : public gpio::output {
public:
    /// Takes ownership of `fd`, a request of one output line whose current value is `initial`.
    line_output(int fd, std::string name, std::string device, bool initial);
    ~line_output() override;

private:
    void write(bool on, boost::system::error_code& ec) noexcept override;

    int fd_;
    std::string device_;
};

} // namespace edgeloop::boards::linux_cdev
