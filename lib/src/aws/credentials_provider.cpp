#include <edgeloop/aws/credentials_provider.hpp>
#include <edgeloop/aws/error.hpp>
#include <edgeloop/http/client.hpp>

#include <boost/asio/post.hpp>

#include <string>
#include <utility>
#include <vector>

namespace edgeloop::aws {

namespace detail {

struct provider_state : std::enable_shared_from_this<provider_state> {
    provider_state(http::client& c, credentials_request r, std::chrono::seconds margin)
        : client(c)
        , request(std::move(r))
        , cache(margin) {}

    void finish(const boost::system::error_code& ec, const signing_credentials& creds) {
        auto waiting = std::move(waiters);
        waiters.clear();
        in_flight = false;
        for (auto& h : waiting)
            std::move(h)(ec, creds);
    }

    void fetch() {
        auto req = make_credentials_request(request);
        if (!req) {
            boost::asio::post(client.get_executor(), [self = shared_from_this(), ec = req.error()] {
                self->last = {};
                self->last.error = ec;
                self->finish(ec, {});
            });
            return;
        }
        ++fetches;
        body.clear();
        error_type.clear();
        http::handlers h;
        h.on_response = [self = shared_from_this()](const http::response_head& head) {
            self->error_type = std::string(head.header("x-amzn-ErrorType"));
        };
        h.on_body = [self = shared_from_this()](std::span<const std::byte> bytes) {
            // The answer is a few hundred bytes; anything past 64 KiB is not the credentials provider.
            if (self->body.size() + bytes.size() <= 64 * 1024)
                self->body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        };
        client.async_fetch(
            std::move(*req), std::move(h),
            [self = shared_from_this()](boost::system::error_code ec, http::transfer_info info) {
                self->on_fetched(ec, info);
            });
    }

    void on_fetched(boost::system::error_code ec, const http::transfer_info& info) {
        last = {};
        if (ec) {
            last.error = ec;
            finish(ec, {});
            return;
        }
        auto r = parse_credentials_response(info.status, error_type, body);
        body.clear();
        if (!r.error && *r.credentials.expiration <= std::chrono::system_clock::now())
            r.error = error::credentials_expired;
        if (r.error) {
            r.credentials = {};
            last = std::move(r);
            finish(last.error, {});
            return;
        }
        cache.store(r.credentials);
        auto creds = std::move(r.credentials);
        r.credentials = {};
        last = std::move(r);
        // Handed out even when already inside the refresh margin (a provider issuing short-lived
        // credentials): they are valid now, and the next caller fetches again.
        finish({}, creds);
    }

    http::client& client;
    credentials_request request;
    credentials_cache cache;
    credentials_response last;
    std::size_t fetches = 0;
    bool in_flight = false;
    std::vector<credentials_handler> waiters;
    std::string body;
    std::string error_type;
};

void start_get_credentials(const std::shared_ptr<provider_state>& state, credentials_handler handler) {
    if (auto creds = state->cache.fresh(std::chrono::system_clock::now())) {
        boost::asio::post(state->client.get_executor(),
                          [h = std::move(handler), c = std::move(*creds)]() mutable {
                              std::move(h)(boost::system::error_code{}, c);
                          });
        return;
    }
    state->waiters.push_back(std::move(handler));
    if (state->in_flight)
        return;
    state->in_flight = true;
    state->fetch();
}

} // namespace detail

credentials_provider::credentials_provider(http::client& client, credentials_request request,
                                           std::chrono::seconds refresh_margin)
    : state_(std::make_shared<detail::provider_state>(client, std::move(request), refresh_margin)) {}

credentials_provider::~credentials_provider() = default;

void credentials_provider::invalidate() {
    state_->cache.clear();
}

const credentials_response& credentials_provider::last_response() const noexcept {
    return state_->last;
}

std::size_t credentials_provider::fetches() const noexcept {
    return state_->fetches;
}

} // namespace edgeloop::aws
