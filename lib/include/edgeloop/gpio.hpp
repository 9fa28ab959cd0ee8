#pragma once

#include <edgeloop/gpio/blinker.hpp>
#include <edgeloop/gpio/board.hpp>
#include <edgeloop/gpio/debouncer.hpp>
#include <edgeloop/gpio/edge_event.hpp>
#include <edgeloop/gpio/error.hpp>
#include <edgeloop/gpio/input.hpp>
#include <edgeloop/gpio/output.hpp>
#include <edgeloop/gpio/subscription.hpp>
#include <edgeloop/gpio/tick_schedule.hpp>
