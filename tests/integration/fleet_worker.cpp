// SPDX-License-Identifier: BSL-1.0
// One instance of a validator fleet, for tests/integration/test_fleet.cpp: an asynchronous
// token_validator over the Beast transport with a Redis shared cache, started as a process of
// its own. It waits for a "go" file (so that every instance of the fleet starts at once), then
// validates the tokens of a file over and over with a number of validations in flight, and
// writes what it saw as one JSON object: how many validations were right and wrong, errors,
// the slowest, and the validator's and the shared cache's counters.
//
//   genesys_fleet_worker --base-url URL --redis-port N [--redis-password PW] --fleet-key-file F
//                        --tokens FILE --go-file F --report F [--rounds N] [--duration-ms N]
//                        [--in-flight N] [--max-entries N] [--redis-timeout-ms N]
//
// The tokens file has a line per token: "V <token>" for one the API accepts, "I <token>" for one
// it refuses (401).

#include <genesys/async_token_validator.hpp>
#include <genesys/fleet_key.hpp>
#include <genesys/redis/shared_cache.hpp>
#include <genesys/transport/beast_async.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct token_case {
    std::string token;
    bool valid = false;
};

struct tally {
    std::mutex mutex;
    std::uint64_t validations = 0, valid = 0, unauthorized = 0, errors = 0, wrong = 0;
    std::vector<double> latencies_ms;
    std::string first_error;
};

std::map<std::string, std::string> parse_args(int argc, char** argv)
{
    std::map<std::string, std::string> out;
    for (int i = 1; i + 1 < argc; i += 2)
        out[argv[i]] = argv[i + 1];
    return out;
}

std::string need(const std::map<std::string, std::string>& a, const std::string& k)
{
    auto it = a.find(k);
    if (it == a.end())
        throw std::runtime_error("missing " + k);
    return it->second;
}

std::string get(const std::map<std::string, std::string>& a, const std::string& k, std::string dflt)
{
    auto it = a.find(k);
    return it == a.end() ? dflt : it->second;
}

/// Keeps `in_flight` validations going on the io_context until `rounds` passes over the tokens
/// are done or `deadline` has passed, whichever comes later... or first: see `more`.
class driver : public std::enable_shared_from_this<driver> {
public:
    driver(genesys::token_validator<genesys::beast_async_transport>& v, const std::vector<token_case>& tokens,
           std::size_t total, clock_type::time_point until, tally& t, std::function<void()> on_done)
        : v_(v), tokens_(tokens), total_(total), until_(until), t_(t), on_done_(std::move(on_done))
    {
    }

    void start(std::size_t in_flight)
    {
        active_ = in_flight;
        for (std::size_t i = 0; i < in_flight; ++i)
            next();
    }

private:
    bool more() const { return next_ < total_ || (until_ != clock_type::time_point{} && clock_type::now() < until_); }

    void next()
    {
        if (!more()) {
            if (--active_ == 0)
                on_done_();
            return;
        }
        const token_case& c = tokens_[next_++ % tokens_.size()];
        const auto started = clock_type::now();
        v_.async_validate(c.token, [self = shared_from_this(), &c, started](genesys::result<genesys::validated_token> r) {
            self->record(c, r, clock_type::now() - started);
            self->next();
        });
    }

    void record(const token_case& c, const genesys::result<genesys::validated_token>& r, clock_type::duration took)
    {
        std::lock_guard lock(t_.mutex);
        ++t_.validations;
        t_.latencies_ms.push_back(std::chrono::duration<double, std::milli>(took).count());
        if (r) {
            ++t_.valid;
            if (!c.valid)
                ++t_.wrong;
        } else if (r.error().kind == genesys::error_kind::api && r.error().status == 401) {
            ++t_.unauthorized;
            if (c.valid)
                ++t_.wrong;
        } else {
            ++t_.errors;
            if (t_.first_error.empty())
                t_.first_error = r.error().message;
        }
    }

    genesys::token_validator<genesys::beast_async_transport>& v_;
    const std::vector<token_case>& tokens_;
    std::size_t total_;
    clock_type::time_point until_;
    tally& t_;
    std::function<void()> on_done_;
    std::size_t next_ = 0; // on the io_context's one thread
    std::size_t active_ = 0;
};

} // namespace

int main(int argc, char** argv)
try {
    const auto args = parse_args(argc, argv);
    std::vector<token_case> tokens;
    {
        std::ifstream in(need(args, "--tokens"));
        std::string kind, token;
        while (in >> kind >> token)
            tokens.push_back({token, kind == "V"});
    }
    if (tokens.empty())
        throw std::runtime_error("no tokens");

    boost::asio::io_context ioc(1);
    auto work = boost::asio::make_work_guard(ioc);

    genesys::redis_options ro;
    ro.host = "127.0.0.1";
    ro.port = static_cast<std::uint16_t>(std::stoi(need(args, "--redis-port")));
    ro.password = get(args, "--redis-password", "");
    ro.command_timeout = std::chrono::milliseconds(std::stoi(get(args, "--redis-timeout-ms", "100")));
    ro.connect_timeout = std::chrono::milliseconds(500);
    auto shared = std::make_shared<genesys::redis_shared_cache>(
        ioc.get_executor(), ro, genesys::fleet_key::from_file(need(args, "--fleet-key-file")));

    genesys::token_validator_config config;
    config.base_url = need(args, "--base-url");
    genesys::token_validator_options o;
    o.max_age = std::chrono::seconds(60);
    o.max_entries = static_cast<std::size_t>(std::stoul(get(args, "--max-entries", "10000")));
    o.shared_cache = shared;
    genesys::token_validator<genesys::beast_async_transport> v{genesys::beast_async_transport(ioc), config, o};

    std::thread io([&] { ioc.run(); });

    // Connected to Redis, then every instance starts at once.
    auto wait_for = [](auto pred, std::chrono::seconds limit) {
        const auto until = clock_type::now() + limit;
        while (!pred()) {
            if (clock_type::now() > until)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    };
    if (!wait_for([&] { return shared->stats().connected; }, std::chrono::seconds(10)))
        throw std::runtime_error("not connected to Redis");
    {
        std::ofstream(need(args, "--report") + ".ready") << "ready\n";
    }
    const std::string go = need(args, "--go-file");
    if (!wait_for([&] { return std::filesystem::exists(go); }, std::chrono::seconds(60)))
        throw std::runtime_error("no go");

    tally t;
    const std::size_t rounds = std::stoul(get(args, "--rounds", "1"));
    const auto duration = std::chrono::milliseconds(std::stoi(get(args, "--duration-ms", "0")));
    const auto until = duration.count() > 0 ? clock_type::now() + duration : clock_type::time_point{};
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    const auto started = clock_type::now();
    auto d = std::make_shared<driver>(v, tokens, rounds * tokens.size(), until, t, [&] {
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_all();
    });
    const std::size_t in_flight = std::stoul(get(args, "--in-flight", "64"));
    boost::asio::post(ioc, [d, in_flight] { d->start(in_flight); });
    {
        std::unique_lock lock(done_mutex);
        done_cv.wait(lock, [&] { return done; });
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    d.reset();

    std::sort(t.latencies_ms.begin(), t.latencies_ms.end());
    auto pct = [&](double p) {
        return t.latencies_ms.empty() ? 0.0
                                      : t.latencies_ms[std::min(t.latencies_ms.size() - 1,
                                                                static_cast<std::size_t>(p * t.latencies_ms.size()))];
    };
    const auto vs = v.stats();
    const auto ss = shared->stats();
    boost::json::object report{
        {"validations", t.validations}, {"valid", t.valid},          {"unauthorized", t.unauthorized},
        {"errors", t.errors},           {"wrong", t.wrong},          {"first_error", t.first_error},
        {"seconds", seconds},           {"p50_ms", pct(0.50)},       {"p99_ms", pct(0.99)},
        {"max_ms", t.latencies_ms.empty() ? 0.0 : t.latencies_ms.back()},
        {"validator", {{"hits", vs.hits}, {"misses", vs.misses}, {"coalesced", vs.coalesced}, {"errors", vs.errors}}},
        {"shared",
         {{"hits", ss.hits},
          {"misses", ss.misses},
          {"lock_waits", ss.lock_waits},
          {"lock_timeouts", ss.lock_timeouts},
          {"stores", ss.stores},
          {"errors", ss.errors},
          {"unavailable", ss.unavailable},
          {"reconnects", ss.reconnects},
          {"rejected_entries", ss.rejected_entries}}}};
    {
        std::ofstream out(need(args, "--report") + ".tmp");
        out << boost::json::serialize(report) << '\n';
    }
    std::filesystem::rename(need(args, "--report") + ".tmp", need(args, "--report"));

    work.reset();
    ioc.stop();
    io.join();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "genesys_fleet_worker: " << e.what() << '\n';
    return 2;
}
