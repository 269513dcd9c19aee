import Foundation
import Testing

/// The DocC articles' code is compiled and run by the tests: each ```swift block of an article in
/// `Sources/*/*.docc/` must be, line for line, a region of a test file marked
///
///     // docs: ArticleName.md
///     …the article's code…
///     // docs: end
///
/// (indentation aside; an article's `import` lines stand for the test file's own).  A block
/// with no region, or a region whose article has no such block, fails here; the region itself
/// runs, with its checks after it, in the test that holds it.
@Suite("Documentation articles")
struct DocumentationArticleTests {
    /// The repository's root, three levels above this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every `.md` file under each module's `.docc` catalog.
    static func articles() throws -> [URL] {
        let sources = root.appendingPathComponent("Sources")
        var found: [URL] = []
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path).sorted() {
            let moduleDirectory = sources.appendingPathComponent(module)
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: moduleDirectory.path)) ?? []
            for catalog in entries.sorted() where catalog.hasSuffix(".docc") {
                let catalogURL = moduleDirectory.appendingPathComponent(catalog)
                let files = FileManager.default.enumerator(atPath: catalogURL.path)?.allObjects as? [String] ?? []
                found += files.sorted().filter { $0.hasSuffix(".md") }.map { catalogURL.appendingPathComponent($0) }
            }
        }
        return found
    }

    /// The ```swift blocks of a Markdown file, without `import` lines and the blank lines
    /// around the block.
    static func swiftBlocks(in text: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil {
                if trimmed == "```swift" { current = [] }
            } else if trimmed == "```" {
                blocks.append(normalized(current!.filter { !$0.hasPrefix("import ") }))
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    /// The `// docs: NAME.md` … `// docs: end` regions of a Swift file, by article name.
    static func regions(in text: String) -> [(article: String, lines: [String])] {
        var regions: [(String, [String])] = []
        var current: (String, [String])?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "// docs: end", let open = current {
                regions.append((open.0, normalized(open.1)))
                current = nil
            } else if trimmed.hasPrefix("// docs: ") {
                current = (String(trimmed.dropFirst("// docs: ".count)), [])
            } else if current != nil {
                current!.1.append(line)
            }
        }
        return regions
    }

    /// The lines without their common indentation, trailing spaces and blank lines at the ends.
    static func normalized(_ lines: [String]) -> [String] {
        var lines = lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        let indent = lines.filter { !$0.isEmpty }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
        return lines.map { $0.isEmpty ? $0 : String($0.dropFirst(indent)) }
    }

    /// Every `// docs:` region in the test sources.
    static func testRegions() throws -> [(file: String, article: String, lines: [String])] {
        let tests = root.appendingPathComponent("Tests")
        let files = FileManager.default.enumerator(atPath: tests.path)?.allObjects as? [String] ?? []
        var found: [(String, String, [String])] = []
        for file in files.sorted() where file.hasSuffix(".swift") {
            let text = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            found += regions(in: text).map { (file, $0.article, $0.lines) }
        }
        return found
    }

    @Test func everyArticleBlockRunsInATest() throws {
        let articles = try Self.articles()
        #expect(articles.count >= 4, "no DocC catalogs found under \(Self.root.path)/Sources")
        let regions = try Self.testRegions()
        var blockCount = 0
        for article in articles {
            let name = article.lastPathComponent
            let blocks = Self.swiftBlocks(in: try String(contentsOf: article, encoding: .utf8))
            blockCount += blocks.count
            let mine = regions.filter { $0.article == name }
            for (index, block) in blocks.enumerated() where !mine.contains(where: { $0.lines == block }) {
                Issue.record(
                    "\(name): swift block \(index + 1) (\(block.first ?? "")…) is no `// docs: \(name)` test region")
            }
            for region in mine where !blocks.contains(region.lines) {
                Issue.record(
                    "\(region.file): its `// docs: \(name)` region (\(region.lines.first ?? "")…) is no swift block of \(name)"
                )
            }
        }
        let named = Set(articles.map(\.lastPathComponent))
        for region in regions where !named.contains(region.article) {
            Issue.record("\(region.file): `// docs: \(region.article)` names no article")
        }
        #expect(blockCount > 0)
    }

    @Test func normalizingIgnoresIndentationAndImports() {
        let markdown =
            "Text\n\n```swift\nimport Softmax\n\nlet a = 1\nif a > 0 {\n    print(a)\n}\n```\n\n```sh\nls\n```\n"
        let swift =
            "func f() {\n    // docs: A.md\n    let a = 1\n    if a > 0 {\n        print(a)\n    }\n    // docs: end\n}\n"
        #expect(Self.swiftBlocks(in: markdown) == [["let a = 1", "if a > 0 {", "    print(a)", "}"]])
        #expect(Self.regions(in: swift).map(\.lines) == Self.swiftBlocks(in: markdown))
        #expect(Self.regions(in: swift).map(\.article) == ["A.md"])
    }

    /// The README's and docs/'s links to files in the repository (the articles among them)
    /// lead somewhere: a newcomer's one click works.
    @Test func repositoryLinksResolve() throws {
        var pages = [Self.root.appendingPathComponent("README.md"), Self.root.appendingPathComponent("CHANGELOG.md")]
        let docs = Self.root.appendingPathComponent("docs")
        pages += try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
            .map { docs.appendingPathComponent($0) }
        let link = /\]\(([^)#\s]+)(#[^)\s]*)?\)/
        var checked = 0
        for page in pages {
            let text = try String(contentsOf: page, encoding: .utf8)
            for match in text.matches(of: link) {
                let target = String(match.output.1)
                if target.contains("://") || target.hasPrefix("mailto:") || target.hasPrefix("../shared") { continue }
                let resolved = page.deletingLastPathComponent().appendingPathComponent(target).standardized
                #expect(
                    FileManager.default.fileExists(atPath: resolved.path),
                    "\(page.lastPathComponent): link \(target) leads nowhere")
                checked += 1
            }
        }
        #expect(checked > 0)
    }
}
