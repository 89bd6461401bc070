import ArgumentParser
import Foundation

/// How the admin commands print what the admin API answered, in one place: tables, readable
/// `show` text, and values as an admin reads them.

/// A JSON value as text: `true`/`false` for booleans (JSONSerialization hands them over as
/// numbers, which print as 1 and 0), `-` for null or absent, lists comma-separated.
func show(_ value: Any?) -> String {
    guard let value, !(value is NSNull) else { return "-" }
    if let number = value as? NSNumber, String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
    if let flag = value as? Bool, type(of: value) == Bool.self { return flag ? "true" : "false" }
    if let list = value as? [Any] { return list.isEmpty ? "-" : list.map { show($0) }.joined(separator: ",") }
    if let object = value as? [String: Any] {
        return object.keys.sorted().map { "\($0)=\(show(object[$0]))" }.joined(separator: " ")
    }
    let text = "\(value)"
    return text.isEmpty ? "-" : text
}

/// A JSON object as indented `field: value` lines, `name` first, for the `show` commands.
func readable(_ object: [String: Any], indent: Int = 0) -> String {
    let margin = String(repeating: " ", count: indent)
    let keys = object.keys.sorted { a, b in a == "name" ? b != "name" : (b == "name" ? false : a < b) }
    var lines: [String] = []
    for key in keys {
        let value = object[key]
        if let nested = value as? [String: Any], !nested.isEmpty {
            lines.append("\(margin)\(key):")
            lines.append(readable(nested, indent: indent + 2))
        } else if let items = value as? [[String: Any]], !items.isEmpty {
            lines.append("\(margin)\(key):")
            for item in items {
                // "- " then the item's fields, the later ones lined up under the first.
                let body = readable(item, indent: indent + 4)
                lines.append(margin + "  - " + body.dropFirst(indent + 4))
            }
        } else {
            lines.append("\(margin)\(key): \(show(value))")
        }
    }
    return lines.joined(separator: "\n")
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// A table: a header row and rows of cells, each column as wide as its widest cell.
func table(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : pad(cell, widths[i] + 1) }.joined()
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n")
}

func prettyJSON(_ object: Any) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

/// `--limit` and `--after` of the list commands: one page of the admin API's list (AdminPaging).
struct PageOptions: ParsableArguments {
    @Option(help: "At most this many items (1 to 1000; default 1000).") var limit: Int?
    @Option(help: "Continue after the page that printed this token (its `next`).") var after: String?

    func validate() throws {
        if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit must be from 1 to 1000") }
    }

    /// The query of the call: paging, and the filters the command was given.
    func query(_ filters: [String: String?] = [:]) -> [(String, String)] {
        var query: [(String, String)] = []
        if let limit { query.append(("limit", String(limit))) }
        if let after { query.append(("after", after)) }
        for (name, value) in filters.sorted(by: { $0.key < $1.key }) {
            if let value { query.append((name, value)) }
        }
        return query
    }

    /// The line under a table when more items follow: how to ask for them.
    static func footer(_ reply: [String: Any]) -> String {
        guard let next = reply["next"] as? String else { return "" }
        return "\n(more: add --after \(next))"
    }
}
