// SPDX-License-Identifier: BSL-1.0
#ifndef GENESYS_BENCHMARKS_BENCH_REPORT_HPP
#define GENESYS_BENCHMARKS_BENCH_REPORT_HPP

// A console reporter that also keeps each benchmark's result (the median when repeated), so a
// benchmark binary can print a table of ratios against its floors after the usual output.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace bench {

/// One benchmark's result: real time per iteration in nanoseconds, CPU time per iteration (of
/// every thread of a multithreaded benchmark together), and its counters.
struct outcome {
    double ns = 0;
    double cpu_ns = 0;
    std::map<std::string, double> counters;
};

class collecting_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override
    {
        for (const Run& run : runs) {
            const bool aggregate = run.run_type == Run::RT_Aggregate;
            if (run.error_occurred) {
                failed = true;
                continue;
            }
            if (aggregate && run.aggregate_name != "median")
                continue;
            const std::string& name = run.run_name.function_name; // without "/real_time" and the like
            if (!aggregate && medians_.count(name))
                continue;
            outcome o;
            o.ns = run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
            o.cpu_ns = run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit) * 1e9;
            for (const auto& [key, counter] : run.counters)
                o.counters[key] = counter.value;
            results[name] = o;
            if (aggregate)
                medians_[name] = true;
        }
        ConsoleReporter::ReportRuns(runs);
    }

    /// The result of `name`, or nullptr when it did not run.
    const outcome* find(const std::string& name) const
    {
        auto it = results.find(name);
        return it == results.end() ? nullptr : &it->second;
    }

    std::map<std::string, outcome> results;
    /// True when a benchmark stopped with an error (e.g. a call failed).
    bool failed = false;

private:
    std::map<std::string, bool> medians_;
};

/// "yes" or "NO", for the table's verdict column.
inline const char* verdict(bool ok) { return ok ? "yes" : "NO"; }

} // namespace bench

#endif
