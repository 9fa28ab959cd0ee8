#include <edgeloop/outbox/error.hpp>

#include <string>

namespace edgeloop::outbox {

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "edgeloop.outbox"; }

    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::full:
            return "outbox full (quota reached, policy refuse)";
        case error::message_too_large:
            return "message larger than the outbox's max_bytes";
        case error::disk_full:
            return "disk full: the message was not stored";
        case error::corrupt_database:
            return "outbox database corrupt";
        case error::newer_schema:
            return "outbox database written by a newer version";
        case error::database_error:
            return "outbox database error";
        case error::closed:
            return "outbox closed";
        case error::expired:
            return "message expired (TTL)";
        }
        return "unknown edgeloop.outbox error";
    }
};

} // namespace

const boost::system::error_category& outbox_category() noexcept {
    static const category instance;
    return instance;
}

} // namespace edgeloop::outbox
