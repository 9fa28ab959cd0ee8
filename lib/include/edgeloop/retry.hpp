#pragma once

#include <edgeloop/retry/backoff.hpp>
#include <edgeloop/retry/error.hpp>
#include <edgeloop/retry/policy.hpp>
#include <edgeloop/retry/retry_after.hpp>
