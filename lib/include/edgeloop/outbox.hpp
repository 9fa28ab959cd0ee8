#pragma once

#include <edgeloop/outbox/dead_letter.hpp>
#include <edgeloop/outbox/delivery.hpp>
#include <edgeloop/outbox/error.hpp>
#include <edgeloop/outbox/message.hpp>
#include <edgeloop/outbox/options.hpp>
#include <edgeloop/outbox/queue.hpp>
#include <edgeloop/outbox/stats.hpp>
#include <edgeloop/outbox/store.hpp>
