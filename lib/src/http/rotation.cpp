// Rotation of the client identity (client::set_identity): new connections use the new TLS context,
// idle connections of the old one are closed, busy ones finish on theirs, sessions are kept per identity.

#include "client_state.hpp"

#include <edgeloop/http/client.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace edgeloop::http {

namespace detail {

std::string client_state::identity_key_suffix(std::uint64_t generation) {
    return generation == 0 ? std::string() : "\nidentity " + std::to_string(generation);
}

void client_state::rotate_tls(tls::context ctx) {
    enable_session_callbacks(ctx);
    tls.emplace(std::move(ctx));
    ++identity_generation;
    // Idle TLS connections present the old identity: closed (their handshake is over; a request on
    // them would go as the old identity). Busy ones finish their transfer and are closed on release.
    for (auto it = idle.begin(); it != idle.end();) {
        if ((*it)->tls)
            it = idle.erase(it);
        else
            ++it;
    }
    // Sessions of the old identity are never resumed with the new one: their keys differ too, this
    // only frees them (sessions a busy old connection still receives go under its old key, unused).
    sessions.clear();
    sessionless.clear();
    wake(); // closed connections freed slots
}

} // namespace detail

void client::set_identity(tls::identity id) {
    if (!state_->tls)
        throw std::logic_error("edgeloop::http::client::set_identity: the client has no TLS context");
    tls::options o = state_->tls->opts();
    o.cert_file.clear();
    o.key_file.clear();
    o.key_passphrase.clear();
    o.client_identity = std::move(id);
    tls::context ctx(std::move(o)); // may throw: nothing has changed yet
    state_->rotate_tls(std::move(ctx));
}

void client::set_tls_context(tls::context ctx) {
    state_->rotate_tls(std::move(ctx));
}

const tls::context* client::tls_context() const noexcept {
    return state_->tls ? &*state_->tls : nullptr;
}

std::uint64_t client::identity_generation() const noexcept {
    return state_->identity_generation;
}

} // namespace edgeloop::http
