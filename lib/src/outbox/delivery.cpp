#include <edgeloop/aws/error.hpp>
#include <edgeloop/outbox/delivery.hpp>

namespace edgeloop::outbox {

action decide(const outcome& o) noexcept {
    if (!o.error)
        return action::remove;
    if (o.error.category() == aws::aws_category() && !aws::is_retryable(o.error))
        return action::dead_letter;
    return action::retry;
}

} // namespace edgeloop::outbox
