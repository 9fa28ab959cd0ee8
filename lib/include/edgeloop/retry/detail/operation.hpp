#pragma once

#include <edgeloop/retry/attempt_handler.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace edgeloop::retry::detail {

/// A move-only `void(attempt_handler)` callable. std::function would demand a copyable operation and
/// std::move_only_function is C++23; operations often own sockets or clients, so they must only move.
class operation {
public:
    template <typename F>
    requires(!std::is_same_v<std::decay_t<F>, operation>) explicit operation(F&& f)
        : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}

    void operator()(attempt_handler handler) { impl_->call(std::move(handler)); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual void call(attempt_handler handler) = 0;
    };

    template <typename F>
    struct model final : concept_t {
        template <typename G>
        explicit model(G&& g)
            : fn(std::forward<G>(g)) {}
        void call(attempt_handler handler) override { fn(std::move(handler)); }
        F fn;
    };

    std::unique_ptr<concept_t> impl_;
};

} // namespace edgeloop::retry::detail
