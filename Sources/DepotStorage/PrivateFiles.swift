import Glibc

/// The data directory holds every tenant's objects and the server's secrets (stored account
/// records, root credentials, signing keys), so only the owner may read it: every file is made
/// 0600 and every directory 0700. The modes are set with chmod after creation as well, so a
/// umask (which can only take bits away from open/mkdir's mode) leaves the owner full access.
public enum PrivateFiles {
    public static let fileMode: mode_t = 0o600
    public static let directoryMode: mode_t = 0o700

    /// Creates `path` as a 0700 directory when it is missing; an existing one is left as it is
    /// (`tighten` deals with those).
    public static func makeDirectory(_ path: String) {
        if mkdir(path, directoryMode) == 0 { chmod(path, directoryMode) }
    }

    /// `open(2)` that creates the file 0600 when missing (`flags` gets O_CREAT). The mode is
    /// set on the descriptor too, so a file made under a tight umask is still the owner's to
    /// write.
    public static func open(_ path: String, _ flags: Int32) -> Int32 {
        let fd = Glibc.open(path, flags | O_CREAT | O_CLOEXEC, fileMode)
        if fd >= 0 { fchmod(fd, fileMode) }
        return fd
    }

    /// Sets 0600 on every regular file and 0700 on every directory under `root` (itself
    /// included) whose mode differs; symbolic links below `root` and what they point at are
    /// left alone.
    /// Returns how many modes it changed, so the caller can say so once. Depth is bounded:
    /// the data directory is at most a few levels deep.
    @discardableResult
    public static func tighten(_ root: String, maxDepth: Int = 6) -> Int {
        var changed = 0
        tighten(root, depth: 0, maxDepth: maxDepth, changed: &changed)
        return changed
    }

    private static func tighten(_ path: String, depth: Int, maxDepth: Int, changed: inout Int) {
        var st = stat()
        // The root itself may be a link to where the data lives (follow it); below it, links
        // are not followed.
        guard (depth == 0 ? stat(path, &st) : lstat(path, &st)) == 0 else { return }
        let kind = st.st_mode & S_IFMT
        let permissions = st.st_mode & 0o7777
        if kind == S_IFREG {
            if permissions != fileMode, chmod(path, fileMode) == 0 { changed += 1 }
            return
        }
        guard kind == S_IFDIR else { return }
        if permissions != directoryMode, chmod(path, directoryMode) == 0 { changed += 1 }
        guard depth < maxDepth, let directory = opendir(path) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            tighten(path + "/" + name, depth: depth + 1, maxDepth: maxDepth, changed: &changed)
        }
    }
}
