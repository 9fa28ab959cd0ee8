#include <edgeloop/boards/linux/line_output.hpp>

#include <linux/gpio.h>

#include <cerrno>
#include <sys/ioctl.h>
#include <unistd.h>

namespace edgeloop::boards::linux_cdev {

line_output::line_output(int fd, std::string name, std::string device, bool initial)
    : gpio::output(std::move(name), initial)
    , fd_(fd)
    , device_(std::move(device)) {}

line_output::~line_output() {
    // Releasing the request gives the line back to the kernel, which may leave it driven as it is: the
    // application turns its LED off first if that matters (blinker::stop() does).
    ::close(fd_);
}

void line_output::write(bool on, boost::system::error_code& ec) noexcept {
    gpio_v2_line_values values{};
    values.mask = 1;
    values.bits = on ? 1 : 0;
    if (::ioctl(fd_, GPIO_V2_LINE_SET_VALUES_IOCTL, &values) != 0)
        ec.assign(errno, boost::system::system_category());
}

} // namespace edgeloop::boards::linux_cdev
