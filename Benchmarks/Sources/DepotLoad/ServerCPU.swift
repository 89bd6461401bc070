import Foundation

/// CPU time (user + system) spent by a server's processes, read from /proc: every process whose
/// ancestor is one of `roots`, so that a server's forked workers (Swift's) or several daemons
/// (Ceph's mon, mgr, osd and radosgw) count as one server. Sampled just before and just after the
/// timed part of a run, so the objects a GET run writes first do not count.
struct ServerCPU: Sendable {
    let roots: [Int32]

    /// Seconds of CPU the processes have used so far, including children they have reaped.
    func seconds() -> Double {
        var parents: [Int32: Int32] = [:]
        var ticks: [Int32: Int] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = Self.stat(pid) else { continue }
            parents[pid] = stat.parent
            ticks[pid] = stat.ticks
        }
        var total = 0
        for (pid, used) in ticks where descends(pid, parents: parents) { total += used }
        return Double(total) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private func descends(_ pid: Int32, parents: [Int32: Int32]) -> Bool {
        var current = pid
        // A bound on the walk: process trees are shallow, and a loop in a racy read must not hang.
        for _ in 0..<64 {
            if roots.contains(current) { return true }
            guard let parent = parents[current], parent > 1 else { return false }
            current = parent
        }
        return false
    }

    /// The parent and utime + stime + cutime + cstime (clock ticks) of one process.
    static func stat(_ pid: Int32) -> (parent: Int32, ticks: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may itself hold spaces and parentheses:
        // state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let parent = Int32(fields[1]) else { return nil }
        let ticks = fields[11...14].reduce(0) { $0 + (Int($1) ?? 0) }
        return (parent, ticks)
    }
}
