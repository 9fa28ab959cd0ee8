#include <edgeloop/retry/error.hpp>

namespace edgeloop::retry {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.retry"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::retries_exhausted:
            return "all retry attempts failed";
        }
        return "unknown edgeloop.retry error";
    }
};

} // namespace

const boost::system::error_category& retry_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace edgeloop::retry
