// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_REDIS_SHARED_CACHE_HPP
#define GENESYS_REDIS_SHARED_CACHE_HPP

/// @file
/// `redis_shared_cache`: the fleet's second-level token cache on Redis (a `shared_token_cache`
/// for `token_validator_options::shared_cache`): authenticated entries under keyed names, a
/// short lock so that one instance checks a token for the whole fleet, revocations published to
/// every instance, and a breaker so that a failing Redis never stalls a validation.

#include <genesys/detail/ascii.hpp>
#include <genesys/detail/hmac.hpp>
#include <genesys/detail/owning_list.hpp>
#include <genesys/detail/shared_entry.hpp>
#include <genesys/error.hpp>
#include <genesys/error_code.hpp>
#include <genesys/fleet_key.hpp>
#include <genesys/redis/connection.hpp>
#include <genesys/redis/options.hpp>
#include <genesys/redis/reply.hpp>
#include <genesys/redis/shared_cache_options.hpp>
#include <genesys/shared_token_cache.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace genesys {

namespace detail {

/// The prefix of the fleet's lock keys: "genesys:tv:lock:" + hex(digest).
inline constexpr std::string_view shared_cache_lock_prefix = "genesys:tv:lock:";
/// The channel of the fleet's revocations.
inline constexpr std::string_view shared_cache_revoke_channel = "genesys:tv:revoke";
/// Deletes the lock `KEYS[1]` only if it still holds this instance's nonce `ARGV[1]`.
inline constexpr std::string_view shared_cache_release_script =
    "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";

/// The revocation message of `digest`: hex(digest) + hex(HMAC(fleet key, "v1|revoke|" + hex(digest))).
inline std::string shared_cache_revocation(const fleet_key& key, const sha256::digest_type& digest)
{
    std::string hex = to_hex(digest_bytes(digest));
    const auto mac = key.mac({"v1|revoke|", hex});
    hex += to_hex(digest_bytes(mac));
    return hex;
}

/// Reads a revocation message: true, with `digest` set, when its MAC verifies.
inline bool shared_cache_read_revocation(const fleet_key& key, std::string_view message, sha256::digest_type& digest)
{
    if (message.size() != 128)
        return false;
    for (std::size_t i = 0; i < 32; ++i) {
        const int hi = hex_digit_value(message[2 * i]);
        const int lo = hex_digit_value(message[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        digest[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    const std::string expected = shared_cache_revocation(key, digest);
    return constant_time_equal(expected, message);
}

inline void throw_shared_cache_config(const std::string& what)
{
    error e;
    e.kind = error_kind::invalid_argument;
    e.code = make_error_code(errc::invalid_argument);
    e.operation = "redis_shared_cache";
    e.message = "redis_shared_cache: " + what;
    throw invalid_argument_error(std::move(e));
}

inline void check_shared_cache_options(const redis_shared_cache_options& o)
{
    using std::chrono::milliseconds;
    if (o.lock_ttl <= milliseconds::zero())
        throw_shared_cache_config("lock_ttl must be positive");
    if (o.breaker_failures == 0)
        throw_shared_cache_config("breaker_failures must be at least 1");
    if (o.backoff_initial <= milliseconds::zero() || o.backoff_max < o.backoff_initial)
        throw_shared_cache_config("the backoff needs 0 < backoff_initial <= backoff_max");
    if (o.max_entry_bytes < shared_entry_codec::header_size + shared_entry_codec::mac_size)
        throw_shared_cache_config("max_entry_bytes is too small to hold an entry");
    if (o.heartbeat_interval <= milliseconds::zero())
        throw_shared_cache_config("heartbeat_interval must be positive");
}

/** The state of a `redis_shared_cache`, shared with its operations in flight.

    Everything but the atomics, the listeners (under their mutex) and the constants runs on
    `strand_`. Two connections: `cmd_` for the commands, running on `strand_` itself (so that a
    command is written at once and its reply completes it without a hop), `sub_` subscribed to
    the revocations (on a strand of its own).
*/
class redis_shared_cache_state : public std::enable_shared_from_this<redis_shared_cache_state> {
public:
    using clock = std::chrono::steady_clock;

    redis_shared_cache_state(boost::asio::any_io_executor ex, redis_options redis, fleet_key key,
                             redis_shared_cache_options options)
        : strand_(make_redis_strand(ex)), key_(std::move(key)), options_(options),
          cmd_(redis_connection(on_redis_strand, strand_, redis)),
          sub_(std::in_place, ex, std::move(redis)), cmd_timer_(strand_), sub_timer_(strand_), heartbeat_(strand_),
          backoff_cmd_(options.backoff_initial), backoff_sub_(options.backoff_initial)
    {
        std::random_device rd;
        rng_.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    }

    const fleet_key& key() const noexcept { return key_; }

    void start()
    {
        boost::asio::post(strand_, [self = shared_from_this()] {
            self->connect_cmd();
            self->connect_sub();
            self->arm_heartbeat();
        });
    }

    void lookup(const shared_token_key& key, std::function<void(shared_lookup&&)> done)
    {
        auto op = std::make_shared<lookup_op>();
        op->digest = key.digest;
        op->done = std::move(done);
        // Dispatched: on the context's thread, with the strand free, the GET is written before
        // this returns; the handler is called later (from the reply), never from inside. (To the
        // typed strand when there is one: no type-erased copy of it to make.)
        auto start = [self = shared_from_this(), op = std::move(op)]() mutable { self->start_lookup(std::move(op)); };
        if (const auto* s = strand_.target<redis_io_strand>())
            boost::asio::dispatch(*s, std::move(start));
        else
            boost::asio::dispatch(strand_, std::move(start));
    }

    void store(const shared_token_key& key, const shared_answer& answer, std::string lock)
    {
        boost::asio::post(strand_, [self = shared_from_this(), key, answer, lock = std::move(lock)]() mutable {
            self->do_store(key, answer, std::move(lock));
        });
    }

    void release(const shared_token_key& key, std::string lock)
    {
        if (lock.empty())
            return;
        boost::asio::post(strand_, [self = shared_from_this(), key, lock = std::move(lock)]() mutable {
            if (self->shut_ || !self->usable())
                return;
            self->send({release_command(key.digest, lock)}, [](const auto&, bool, const std::vector<redis_reply>&) {});
        });
    }

    void revoke(const shared_token_key& key)
    {
        boost::asio::post(strand_, [self = shared_from_this(), key] {
            if (self->shut_)
                return;
            if (!self->usable()) {
                ++self->counters_.errors; // not published: the other instances keep it until its time ends
                return;
            }
            self->send({{"DEL", entry_key(key.digest)},
                        {"PUBLISH", std::string(shared_cache_revoke_channel), shared_cache_revocation(self->key_, key.digest)}},
                       [](const auto& s, bool ok, const std::vector<redis_reply>&) {
                           if (ok)
                               ++s->counters_.revocations_sent;
                       });
        });
    }

    void add_listener(std::weak_ptr<shared_token_cache_listener> listener)
    {
        std::lock_guard lock(listeners_mutex_);
        std::erase_if(listeners_, [](const auto& w) { return w.expired(); });
        listeners_.push_back(std::move(listener));
    }

    shared_token_cache_stats stats() const
    {
        shared_token_cache_stats s;
        s.hits = counters_.hits.load();
        s.misses = counters_.misses.load();
        s.lock_waits = counters_.lock_waits.load();
        s.lock_timeouts = counters_.lock_timeouts.load();
        s.stores = counters_.stores.load();
        s.rejected_entries = counters_.rejected_entries.load();
        s.errors = counters_.errors.load();
        s.unavailable = counters_.unavailable.load();
        s.revocations_sent = counters_.revocations_sent.load();
        s.revocations_received = counters_.revocations_received.load();
        s.revocations_rejected = counters_.revocations_rejected.load();
        s.reconnects = counters_.reconnects.load();
        s.connected = connected_.load();
        s.breaker_open = breaker_open_.load();
        return s;
    }

    /// Ends everything, on the strand: each pending lookup's handler is called with `{}`, the
    /// timers cancelled, the connections closed. Posted: never calls a handler inline.
    void shutdown()
    {
        boost::asio::post(strand_, [self = shared_from_this()] {
            self->shut_ = true;
            self->cmd_timer_.cancel();
            self->sub_timer_.cancel();
            self->heartbeat_.cancel();
            self->connected_ = false;
            while (auto* op = self->ops_.front())
                self->finish(*op, {});
            self->cmd_.reset(); // closes them (their state lives until their operations ended)
            self->sub_.reset();
            {
                std::lock_guard lock(self->listeners_mutex_);
                self->listeners_.clear();
            }
        });
    }

private:
    /** A lookup, and the completion of its `GET` (sent with `redis_connection::execute_on_strand`:
        no Asio handler, executor binder or work to track for it; it holds the state weakly, as
        `send`'s handlers do). */
    struct lookup_op final : redis_op_base, owning_list_node<lookup_op>, std::enable_shared_from_this<lookup_op> {
        /// Not from a read (a failure, or no connection): maybe inside `start_lookup`, so posted.
        void complete(boost::system::error_code ec, std::vector<redis_reply>) override
        {
            if (auto s = state.lock())
                boost::asio::post(s->strand_, [s, op = shared_from_this(), ec] { s->got_entry(*op, ec, {}); });
        }
        /// From the read that brought the reply, on the strand (the connection's is the cache's),
        /// which holds this operation meanwhile.
        void complete_on(const redis_strand&, boost::system::error_code ec, std::vector<redis_reply> replies) override
        {
            if (auto s = state.lock())
                s->got_entry(*this, ec, replies);
        }

        std::weak_ptr<redis_shared_cache_state> state{};
        sha256::digest_type digest{};
        std::array<char, shared_entry_key_size> key{}; ///< entry_key(digest), computed once per lookup

        std::string_view rkey() const noexcept { return {key.data(), key.size()}; }
        std::function<void(shared_lookup&&)> done{};
        bool waiting = false;
        bool rejected = false; ///< a refused entry was counted
        clock::time_point wait_start{};
        std::chrono::milliseconds delay{2};
        std::optional<boost::asio::steady_timer> timer{};
    };

    struct counters {
        std::atomic<std::uint64_t> hits{0}, misses{0}, lock_waits{0}, lock_timeouts{0}, stores{0}, rejected_entries{0},
            errors{0}, unavailable{0}, revocations_sent{0}, revocations_received{0}, revocations_rejected{0},
            reconnects{0};
    };

    enum class link_state { connecting, up, backoff };

    static std::string entry_key(const sha256::digest_type& d) { return shared_entry_key(d); }
    static std::string lock_key(const sha256::digest_type& d)
    {
        std::string k(shared_cache_lock_prefix);
        k += to_hex(digest_bytes(d));
        return k;
    }
    static redis_command release_command(const sha256::digest_type& d, const std::string& nonce)
    {
        return {"EVAL", std::string(shared_cache_release_script), "1", lock_key(d), nonce};
    }

    // ---- the command connection and its breaker ----

    bool usable()
    {
        if (cmd_state_ != link_state::up)
            return false;
        if (!cmd_->is_connected()) {
            connection_lost();
            return false;
        }
        return true;
    }

    void connect_cmd()
    {
        cmd_state_ = link_state::connecting;
        cmd_->async_connect(boost::asio::bind_executor(strand_, [weak = weak_from_this()](boost::system::error_code ec) {
            const auto self = weak.lock();
            if (!self || self->shut_)
                return;
            if (ec) {
                self->breaker_open_ = true;
                return self->schedule_cmd_reconnect();
            }
            self->cmd_state_ = link_state::up;
            self->failures_ = 0;
            self->backoff_cmd_ = self->options_.backoff_initial;
            if (self->was_up_)
                ++self->counters_.reconnects;
            self->was_up_ = true;
            self->breaker_open_ = false;
            self->connected_ = true;
        }));
    }

    void schedule_cmd_reconnect()
    {
        cmd_state_ = link_state::backoff;
        cmd_timer_.expires_after(next_delay(backoff_cmd_));
        cmd_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->shut_)
                self->connect_cmd();
        });
    }

    /// The connection failed (or the breaker tripped): stop asking, connect again with backoff.
    void connection_lost()
    {
        if (cmd_state_ != link_state::up)
            return;
        connected_ = false;
        breaker_open_ = true;
        cmd_->close();
        schedule_cmd_reconnect();
    }

    std::chrono::milliseconds next_delay(std::chrono::milliseconds& backoff)
    {
        const auto full = backoff;
        backoff = std::min(backoff * 2, options_.backoff_max);
        std::uniform_int_distribution<std::int64_t> half(full.count() / 2, full.count());
        return std::chrono::milliseconds(half(rng_));
    }

    /// Sends `commands`; `then(self, ok, replies)` runs on the strand, `ok` false when the
    /// pipeline failed or a reply is an error (counted, fed to the breaker). The handler holds
    /// the state weakly: it sits in the connection's queue, which the state owns (a strong
    /// reference would be a cycle, leaked when the context is destroyed without running).
    template <class Then>
    void send(std::vector<redis_command> commands, Then then)
    {
        // Bound to the strand itself: the connection calls it at once, from the read that
        // brought the replies.
        cmd_->async_execute(commands, boost::asio::bind_executor(strand_, [weak = weak_from_this(), then = std::move(then)](
                                                                              boost::system::error_code ec,
                                                                              std::vector<redis_reply> r) mutable {
            const auto self = weak.lock();
            if (!self || self->shut_)
                return;
            const bool ok = self->command_ok(ec, r);
            then(self, ok, r);
        }));
    }

    bool command_ok(boost::system::error_code ec, const std::vector<redis_reply>& replies)
    {
        if (ec) {
            ++counters_.errors;
            connection_lost();
            return false;
        }
        for (const auto& r : replies) {
            if (r.is_error()) {
                ++counters_.errors;
                if (++failures_ >= options_.breaker_failures)
                    connection_lost();
                return false;
            }
        }
        failures_ = 0;
        return true;
    }

    /// The lookup's answer from `reply` (a GET's) for the entry `rkey`, if usable: decoded in
    /// place (a token's info is moved through the layers above, not here). Counts what is
    /// refused, once per lookup (`counted`: a lookup reads the same entry again after its first `GET`).
    /// @return false, `found.answer` empty, when the entry is absent or not usable.
    bool read_entry(std::string_view rkey, const redis_reply& reply, bool& counted, shared_lookup& found)
    {
        if (reply.kind != redis_reply_kind::string)
            return false;
        const auto status = decode_shared_entry(key_, rkey, reply.text, std::chrono::system_clock::now(),
                                                found.answer.emplace(), options_.max_entry_bytes);
        if (status == shared_entry_status::ok)
            return true;
        found.answer.reset();
        // An expired entry, or one another version of the library wrote, is a miss, not a fault.
        if (status != shared_entry_status::expired && status != shared_entry_status::other_format &&
            !std::exchange(counted, true))
            ++counters_.rejected_entries;
        return false;
    }

    // ---- lookups ----

    /// Ends `op` with `result`, once: nothing when it has ended already.
    void finish(lookup_op& op, shared_lookup&& result)
    {
        const auto owned = ops_.erase(op); // (alive until the handler returned)
        if (!owned)
            return;
        if (op.timer)
            op.timer->cancel();
        if (auto done = std::exchange(op.done, nullptr))
            done(std::move(result));
    }

    void start_lookup(std::shared_ptr<lookup_op> op)
    {
        // Maybe inside async_lookup (dispatched): an answer without a command is posted.
        if (shut_) { // not reached: the object is gone only after shutdown() was posted
            boost::asio::post(strand_, [op = std::move(op)] {
                if (auto done = std::exchange(op->done, nullptr))
                    done(shared_lookup{});
            });
            return;
        }
        ops_.push_front(op);
        if (!usable()) {
            ++counters_.unavailable;
            boost::asio::post(strand_, [self = shared_from_this(), op = std::move(op)] { self->finish(*op, {}); });
            return;
        }
        shared_entry_key_to(op->digest, op->key.data());
        op->state = weak_from_this();
        wire_.clear(); // (its capacity stays: formatting the GET allocates nothing)
        const std::array<std::array<std::string_view, 2>, 1> command{{{"GET", op->rkey()}}};
        (void)redis_format_range(command, wire_); // (a command of two arguments: never refused)
        cmd_->execute_on_strand(std::move(op), wire_, 1);
    }

    /// The lookup's `GET` answered (or failed): the entry, else the lock (`try_lock`).
    void got_entry(lookup_op& op, boost::system::error_code ec, const std::vector<redis_reply>& r)
    {
        if (shut_)
            return;
        const bool ok = command_ok(ec, r);
        if (!op.linked()) // ended meanwhile
            return;
        if (!ok)
            return finish(op, {});
        shared_lookup found;
        if (read_entry(op.rkey(), r.at(0), op.rejected, found)) {
            ++counters_.hits;
            return finish(op, std::move(found));
        }
        try_lock(op.shared_from_this());
    }

    /// `SET lock nonce NX PX lock_ttl` + `GET key`: the answer, the lock, or a wait.
    void try_lock(std::shared_ptr<lookup_op> lookup)
    {
        if (!lookup->linked()) // ended meanwhile
            return;
        if (!usable())
            return finish(*lookup, {});
        const auto digest = lookup->digest;
        std::string nonce = new_nonce();
        const std::string rkey(lookup->rkey());
        send({{"SET", lock_key(digest), nonce, "NX", "PX", std::to_string(options_.lock_ttl.count())}, {"GET", rkey}},
             [lookup = std::move(lookup), nonce](const auto& self, bool ok, const std::vector<redis_reply>& r) {
                 auto& op = *lookup;
                 if (!op.linked())
                     return;
                 if (!ok)
                     return self->finish(op, {});
                 const bool taken = r.at(0).kind == redis_reply_kind::status;
                 shared_lookup found;
                 if (self->read_entry(op.rkey(), r.at(1), op.rejected, found)) {
                     ++self->counters_.hits;
                     if (taken)
                         self->send({release_command(op.digest, nonce)}, [](const auto&, bool, const std::vector<redis_reply>&) {});
                     return self->finish(op, std::move(found));
                 }
                 if (taken) {
                     ++self->counters_.misses;
                     return self->finish(op, {std::nullopt, nonce});
                 }
                 // Another instance holds the lock: wait for its answer, bounded by lock_ttl. A
                 // lock released without an answer (its check failed) is taken by the next poll.
                 const auto now = clock::now();
                 if (!op.waiting) {
                     op.waiting = true;
                     op.wait_start = now;
                     ++self->counters_.lock_waits;
                 } else if (now - op.wait_start >= self->options_.lock_ttl) {
                     ++self->counters_.lock_timeouts;
                     ++self->counters_.misses;
                     return self->finish(op, {});
                 }
                 if (!op.timer)
                     op.timer.emplace(self->strand_);
                 op.timer->expires_after(op.delay);
                 op.delay = std::min(op.delay * 2, std::chrono::milliseconds(25));
                 op.timer->async_wait([self = std::shared_ptr<redis_shared_cache_state>(self), lookup](boost::system::error_code ec) {
                     if (!ec && !self->shut_)
                         self->try_lock(lookup);
                 });
             });
    }

    std::string new_nonce()
    {
        std::string bytes(16, '\0');
        for (std::size_t i = 0; i < bytes.size(); i += 8) {
            const std::uint64_t v = rng_();
            for (std::size_t j = 0; j < 8; ++j)
                bytes[i + j] = static_cast<char>(static_cast<unsigned char>(v >> (8 * j)));
        }
        return to_hex(bytes);
    }

    // ---- store ----

    void do_store(const shared_token_key& key, const shared_answer& answer, std::string lock)
    {
        if (shut_ || !usable())
            return; // the lock, if any, ends at its expiry
        const auto now = std::chrono::system_clock::now();
        const std::string rkey = entry_key(key.digest);
        std::vector<redis_command> commands;
        bool setting = answer.expires_at > now;
        const bool unauthorized = answer.kind == shared_answer_kind::unauthorized;
        if (setting) {
            std::string value = encode_shared_entry(key_, rkey, answer);
            if (value.size() > options_.max_entry_bytes) {
                setting = false;
            } else {
                commands.push_back({"SET", rkey, std::move(value), "PX",
                                    std::to_string(shared_entry_ttl(answer, now).count())});
                if (unauthorized)
                    commands.back().push_back("GET");
            }
        }
        if (!lock.empty())
            commands.push_back(release_command(key.digest, lock));
        if (commands.empty())
            return;
        send(std::move(commands), [setting, unauthorized, key, rkey](const auto& self, bool ok,
                                                                     const std::vector<redis_reply>& r) {
            if (!ok || !setting)
                return;
            ++self->counters_.stores;
            if (!unauthorized || r.at(0).kind != redis_reply_kind::string)
                return;
            // A 401 replaced a valid answer: the fleet held the token valid, revoke it everywhere.
            // So too when another version of the library wrote the old answer (it cannot be read
            // here, and may have been valid): a needless revocation costs a cache miss.
            shared_answer old;
            const auto status = decode_shared_entry(self->key_, rkey, r[0].text, std::chrono::system_clock::now(), old,
                                                    self->options_.max_entry_bytes);
            if ((status == shared_entry_status::ok && old.kind == shared_answer_kind::valid) ||
                status == shared_entry_status::other_format)
                self->send({{"PUBLISH", std::string(shared_cache_revoke_channel),
                             shared_cache_revocation(self->key_, key.digest)}},
                           [](const auto& s, bool sent, const std::vector<redis_reply>&) {
                               if (sent)
                                   ++s->counters_.revocations_sent;
                           });
        });
    }

    // ---- the subscriber connection ----

    void connect_sub()
    {
        const std::uint64_t gen = ++sub_gen_;
        sub_->async_connect(boost::asio::bind_executor(strand_, [weak = weak_from_this(), gen](boost::system::error_code ec) {
            const auto self = weak.lock();
            if (!self || self->shut_ || gen != self->sub_gen_)
                return;
            if (ec)
                return self->schedule_sub_reconnect();
            auto on_message = [weak, gen](boost::system::error_code e, std::string channel, std::string payload) {
                // On the connection's strand: over to ours, in order.
                if (auto s = weak.lock())
                    boost::asio::post(s->strand_, [s, gen, e, channel = std::move(channel), payload = std::move(payload)] {
                        s->on_message(gen, e, channel, payload);
                    });
            };
            self->sub_->async_subscribe({std::string(shared_cache_revoke_channel)}, std::move(on_message),
                                        boost::asio::bind_executor(self->strand_, [weak, gen](boost::system::error_code e) {
                                            if (const auto s = weak.lock())
                                                s->on_subscribed(gen, e);
                                        }));
        }));
    }

    void on_subscribed(std::uint64_t gen, boost::system::error_code ec)
    {
        if (shut_ || gen != sub_gen_)
            return;
        if (ec) {
            sub_->close();
            return schedule_sub_reconnect();
        }
        subscribed_ = true;
        backoff_sub_ = options_.backoff_initial;
        usable(); // the command connection may have been lost meanwhile: find out now
        if (was_subscribed_)
            for (auto& l : live_listeners())
                l->on_revocations_missed();
        was_subscribed_ = true;
    }

    void on_message(std::uint64_t gen, boost::system::error_code ec, const std::string& channel, const std::string& payload)
    {
        if (shut_)
            return;
        if (ec) {
            if (gen != sub_gen_)
                return;
            subscribed_ = false;
            ++sub_gen_; // a late confirmation of this attempt is ignored
            usable();   // the command connection may be gone too: find out now
            return schedule_sub_reconnect();
        }
        if (channel != shared_cache_revoke_channel)
            return;
        shared_token_key key;
        if (!shared_cache_read_revocation(key_, payload, key.digest)) {
            ++counters_.revocations_rejected;
            return;
        }
        ++counters_.revocations_received;
        for (auto& l : live_listeners())
            l->on_revoked(key);
    }

    void schedule_sub_reconnect()
    {
        subscribed_ = false;
        sub_timer_.expires_after(next_delay(backoff_sub_));
        sub_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->shut_)
                self->connect_sub();
        });
    }

    void arm_heartbeat()
    {
        heartbeat_.expires_after(options_.heartbeat_interval);
        heartbeat_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || self->shut_)
                return;
            if (self->subscribed_) // a server that stopped answering times the PING out, ending the subscription
                self->sub_->async_execute({{"PING"}}, [](boost::system::error_code, std::vector<redis_reply>) {});
            self->usable();
            self->arm_heartbeat();
        });
    }

    std::vector<std::shared_ptr<shared_token_cache_listener>> live_listeners()
    {
        std::vector<std::shared_ptr<shared_token_cache_listener>> out;
        std::lock_guard lock(listeners_mutex_);
        for (const auto& w : listeners_)
            if (auto p = w.lock())
                out.push_back(std::move(p));
        return out;
    }

    redis_strand strand_; // shared with `cmd_` (a typed strand inside: see `redis_strand`)
    std::string wire_{};  // on the strand: the lookup's GET, formatted
    const fleet_key key_;
    const redis_shared_cache_options options_;
    counters counters_{};
    std::atomic<bool> connected_{false};
    std::atomic<bool> breaker_open_{false};
    std::mutex listeners_mutex_;
    std::vector<std::weak_ptr<shared_token_cache_listener>> listeners_{};

    // On the strand.
    std::optional<redis_connection> cmd_;
    std::optional<redis_connection> sub_;
    boost::asio::steady_timer cmd_timer_;
    boost::asio::steady_timer sub_timer_;
    boost::asio::steady_timer heartbeat_;
    std::chrono::milliseconds backoff_cmd_;
    std::chrono::milliseconds backoff_sub_;
    std::mt19937_64 rng_{};
    link_state cmd_state_ = link_state::connecting;
    unsigned failures_ = 0;
    bool was_up_ = false;
    std::uint64_t sub_gen_ = 0;
    bool subscribed_ = false;
    bool was_subscribed_ = false;
    bool shut_ = false;
    owning_list<lookup_op> ops_{}; ///< the lookups under way (until `finish`)
};

} // namespace detail

/** The fleet's shared token cache on one Redis endpoint (a primary or a managed service's
    endpoint; neither Cluster nor Sentinel): the `shared_token_cache` the library ships, for
    `token_validator_options::shared_cache`.

    What Redis holds: under `genesys:tv:<hex HMAC of the token>` an answer MAC'd under the fleet
    key and bound to its key (Redis never sees a token; whoever writes to Redis without the key
    cannot make a token valid: such an entry, or one over `max_entry_bytes`, or one that does not
    parse, is ignored and counted in `rejected_entries`), for the answer's time (`PX`); under
    `genesys:tv:lock:<hex>` a random nonce while one instance checks the token. Revocations are
    published on the channel `genesys:tv:revoke` with a MAC; a message failing it is counted in
    `revocations_rejected` and otherwise ignored.

    `async_lookup`: `GET`; when absent, `SET lock NX PX lock_ttl` with a second `GET` in the same
    pipeline: the answer (a hit), the lock (`shared_lookup::lock`: check the token, then `store`
    or `release`), or another instance holds it: poll `GET` (2 ms doubling to 25 ms, retrying the
    lock so that a holder that released it without an answer frees the waiters at once) until an
    answer comes (a hit) or `lock_ttl` passed (`lock_timeouts`; check without the lock). Counted:
    `hits`, `misses` (the lookups that reached Redis and found nothing usable), `lock_waits`.

    Failures never fail a validation: a command that fails (timeout, connection lost) or
    `breaker_failures` error replies in a row (`-OOM`, `-NOPERM`) open the breaker: the
    connection is closed and made again in the background with backoff (`backoff_initial`
    doubling to `backoff_max`, with jitter); meanwhile (and before the first connection) lookups
    answer "check it yourself" at once (`unavailable`), stores and releases are dropped, a revoke
    is not published (counted in `errors`). A lookup waits at most `command_timeout` for each of
    its two commands (plus the lock wait when another instance holds the lock). The subscriber connection is
    pinged every `heartbeat_interval` and made again when lost; once it is back, every listener's
    `on_revocations_missed()` is called (not after the very first subscription).

    Handlers and listeners run on the cache's executor (a strand of it); each lookup's handler is
    called exactly once, never from inside `async_lookup`, including when the cache is destroyed
    with lookups in flight (then with `{}`). Called on a thread running that executor while the
    strand is free, `async_lookup` writes its first command before it returns. Thread safety: every member may be called from any
    number of threads at once; destroying the object while another thread calls it is not safe.

    The Redis ACL a validator needs (least privilege, tested):
    `ACL SETUSER validator on >password resetkeys ~genesys:tv:* resetchannels &genesys:tv:* -@all +get +set +del +eval +publish +subscribe +ping`
    (`AUTH` needs no permission; add `+select` when `redis_options::database` is not 0).
*/
class redis_shared_cache final : public shared_token_cache {
public:
    /** Makes the cache on `ex` (its handlers and listeners run on a strand of it; run `ex`'s
        context yourself) and starts connecting in the background. Destroy the cache while that
        context still runs: the shutdown that calls the pending handlers is posted there.

        @param ex the executor, e.g. an `io_context`'s.
        @param redis where Redis is (`command_timeout` bounds each command; keep it short).
        @param key the fleet key (copied; wiped with the cache).
        @param options the lock, the breaker, the backoff and the size limit.
        @throws invalid_argument_error on a bad configuration (TLS files unusable, an option out of
        range); the message never contains the key nor the password.
    */
    redis_shared_cache(boost::asio::any_io_executor ex, redis_options redis, fleet_key key,
                       redis_shared_cache_options options = {})
    {
        detail::check_shared_cache_options(options);
        state_ = std::make_shared<detail::redis_shared_cache_state>(std::move(ex), std::move(redis), std::move(key),
                                                                    options);
        state_->start();
    }

    /** Makes the cache on an I/O thread of its own (for the blocking validator) and starts
        connecting in the background. Handlers and listeners run on that thread.

        @throws invalid_argument_error as the other constructor.
    */
    redis_shared_cache(redis_options redis, fleet_key key, redis_shared_cache_options options = {})
    {
        detail::check_shared_cache_options(options);
        own_ = std::make_shared<runner>();
        state_ = std::make_shared<detail::redis_shared_cache_state>(own_->ioc.get_executor(), std::move(redis),
                                                                    std::move(key), options);
        own_->work.emplace(own_->ioc.get_executor());
        state_->start();
        // The thread shares the runner: destroyed from a handler (on this very thread), the cache
        // lets the thread end on its own, and the context dies with the thread's last reference.
        own_->thread = std::thread([r = own_] {
            for (;;) {
                try {
                    r->ioc.run();
                    break;
                } catch (...) { // a handler threw: go on serving the others
                }
            }
            r->done.store(true);
        });
    }

    redis_shared_cache(const redis_shared_cache&) = delete;
    redis_shared_cache& operator=(const redis_shared_cache&) = delete;

    /// Calls each pending lookup's handler once with `{}` (on the cache's executor), closes the
    /// connections; with its own thread, waits (bounded) for that thread to end, unless called
    /// on that thread (from a handler holding the last reference): then the thread ends by itself.
    ~redis_shared_cache() override
    {
        state_->shutdown();
        state_.reset();
        if (!own_)
            return;
        own_->work.reset();
        if (std::this_thread::get_id() == own_->thread.get_id()) {
            own_->thread.detach();
            return;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!own_->done.load() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (!own_->done.load())
            own_->ioc.stop();
        own_->thread.join();
    }

    /// `key_of`: HMAC-SHA-256 under the fleet key. @throws invalid_argument_error when
    /// `base_url` contains `|`.
    shared_token_key key_of(std::string_view base_url, bool preserve_idle_ttl, std::string_view token) const override
    {
        shared_token_key k;
        k.digest = detail::shared_entry_digest(state_->key(), base_url, preserve_idle_ttl, token);
        return k;
    }

    void async_lookup(const shared_token_key& key, std::function<void(shared_lookup&&)> done) override
    {
        state_->lookup(key, std::move(done));
    }

    void store(const shared_token_key& key, const shared_answer& answer, std::string lock) override
    {
        state_->store(key, answer, std::move(lock));
    }

    void release(const shared_token_key& key, std::string lock) override { state_->release(key, std::move(lock)); }

    void revoke(const shared_token_key& key) override { state_->revoke(key); }

    void add_listener(std::weak_ptr<shared_token_cache_listener> listener) override
    {
        state_->add_listener(std::move(listener));
    }

    shared_token_cache_stats stats() const override { return state_->stats(); }

private:
    /// The I/O thread of the second constructor, and its context.
    struct runner {
        boost::asio::io_context ioc{1};
        std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{};
        std::atomic<bool> done{false};
        std::thread thread{};
    };

    std::shared_ptr<runner> own_{};
    std::shared_ptr<detail::redis_shared_cache_state> state_{};
};

} // namespace genesys

#endif
