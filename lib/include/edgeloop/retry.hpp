#pragma once

#include <edgeloop/retry/async_retry.hpp>
#include <edgeloop/retry/attempt_handler.hpp>
#include <edgeloop/retry/backoff.hpp>
#include <edgeloop/retry/error.hpp>
#include <edgeloop/retry/options.hpp>
#include <edgeloop/retry/policy.hpp>
#include <edgeloop/retry/result.hpp>
#include <edgeloop/retry/retry_after.hpp>
