#include <chat/detail/static_files.hpp>
#include <chat/detail/url.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include <unistd.h>

#include "unit_support.hpp"

namespace fs = std::filesystem;
using chat::detail::resolve_static;
using chat::detail::StaticError;
using namespace std::string_literals;

namespace {

/// A scratch tree:
///   base/root/{index.html, a.txt, "a b.txt", ..a, sub/{index.html, style.css}, empty/}
///   base/root/inside_link -> a.txt, outside_link -> ../secret.txt, outside_dir -> ../outside,
///   sibling_link -> ../root2/file.txt, abs_outside -> <abs>/secret.txt, dangling -> nowhere
///   base/{secret.txt, outside/{index.html, secret.txt}, root2/file.txt}, base/root_link -> root
class Tree {
 public:
  Tree() {
    static std::atomic<int> counter{0};
    base_ = fs::temp_directory_path() / ("chat_unit_static_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter++));
    fs::remove_all(base_);
    fs::create_directories(root() / "sub");
    fs::create_directories(root() / "empty");
    fs::create_directories(base_ / "outside");
    fs::create_directories(base_ / "root2");
    write(root() / "index.html", "<h1>home</h1>");
    write(root() / "a.txt", "a");
    write(root() / "a b.txt", "space");
    write(root() / "..a", "dots");
    write(root() / "sub" / "index.html", "sub");
    write(root() / "sub" / "style.css", "css");
    write(base_ / "secret.txt", "secret");
    write(base_ / "outside" / "index.html", "outside index");
    write(base_ / "outside" / "secret.txt", "outside secret");
    write(base_ / "root2" / "file.txt", "sibling");
    fs::create_symlink("a.txt", root() / "inside_link");
    fs::create_symlink("../secret.txt", root() / "outside_link");
    fs::create_directory_symlink("../outside", root() / "outside_dir");
    fs::create_symlink("../root2/file.txt", root() / "sibling_link");
    fs::create_symlink(fs::canonical(base_) / "secret.txt", root() / "abs_outside");
    fs::create_symlink("nowhere", root() / "dangling");
    fs::create_directory_symlink("root", base_ / "root_link");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  fs::path base() const { return base_; }
  fs::path root() const { return base_ / "root"; }
  fs::path in_root(const fs::path& relative) const { return fs::canonical(root()) / relative; }

 private:
  static void write(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
  }
  fs::path base_;
};

std::string show(const std::variant<fs::path, StaticError>& result) {
  if (const auto* path = std::get_if<fs::path>(&result)) return "path " + path->string();
  return std::get<StaticError>(result) == StaticError::forbidden ? "forbidden" : "not_found";
}

const std::string forbidden = "forbidden";
const std::string not_found = "not_found";

}  // namespace

TEST_CASE("static: files, directories and their index.html resolve inside the root", "[static]") {
  Tree tree;
  struct Row {
    std::string request;
    std::string file;  // relative to the root
  };
  const std::vector<Row> rows = {
      {"/", "index.html"},
      {"/index.html", "index.html"},
      {"/a.txt", "a.txt"},
      {"//a.txt", "a.txt"},
      {"/./a.txt", "a.txt"},
      {"/a b.txt", "a b.txt"},
      {"/..a", "..a"},  // a name beginning with dots is not a parent segment
      {"/sub", "sub/index.html"},
      {"/sub/", "sub/index.html"},
      {"/sub/./", "sub/index.html"},
      {"/sub/style.css", "sub/style.css"},
      {"/inside_link", "a.txt"},  // a symlink staying inside is followed
  };
  for (const auto& row : rows) {
    INFO("request " << unit::printable(row.request));
    CHECK(show(resolve_static(tree.root(), row.request)) == show(tree.in_root(row.file)));
  }
  // The root itself may be reached through a symlink.
  CHECK(show(resolve_static(tree.base() / "root_link", "/a.txt")) == show(tree.in_root("a.txt")));
  CHECK(show(resolve_static(tree.root() / "", "/a.txt")) == show(tree.in_root("a.txt")));
}

TEST_CASE("static: missing files are not_found", "[static]") {
  Tree tree;
  for (const std::string& request : {"/missing.txt"s, "/missing/dir/x"s, "/empty"s, "/empty/"s, "/a.txt/x"s,
                                    "/sub/missing.css"s, "/dangling"s, "/.../x"s}) {
    INFO("request " << unit::printable(request));
    CHECK(show(resolve_static(tree.root(), request)) == not_found);
  }
  CHECK(show(resolve_static(tree.base() / "no_such_root", "/")) == not_found);
  CHECK(show(resolve_static(tree.base() / "no_such_root", "/a.txt")) == not_found);
}

TEST_CASE("static: table of traversal attempts is forbidden", "[static]") {
  Tree tree;
  const std::vector<std::string> requests = {
      "",                          // empty
      "a.txt",                     // no leading slash
      "..",                        //
      "/..",                       //
      "/../",                      //
      "/../secret.txt",            //
      "/../x",                     //
      "/a/../../x",                //
      "/a/../../secret.txt",       //
      "/sub/..",                   // any '..' segment, even one that stays inside
      "/sub/../a.txt",             //
      "/sub/../../secret.txt",     //
      "/./../secret.txt",          //
      "//../secret.txt",           //
      "/../root/a.txt",            //
      "/a\\b",                     // backslashes
      "\\",                        //
      "/..\\secret.txt",           //
      "/sub\\..\\..\\secret.txt",  //
      "/a.txt\0"s,                 // NUL
      "/\0/a.txt"s,                //
  };
  for (const auto& request : requests) {
    INFO("request " << unit::printable(request));
    CHECK(show(resolve_static(tree.root(), request)) == forbidden);
  }
}

TEST_CASE("static: symlinks leading out of the root are forbidden", "[static]") {
  Tree tree;
  for (const std::string& request : {"/outside_link"s, "/outside_dir"s, "/outside_dir/"s, "/outside_dir/secret.txt"s,
                                    "/sibling_link"s, "/abs_outside"s, "/sub/../outside_link"s}) {
    INFO("request " << unit::printable(request));
    CHECK(show(resolve_static(tree.root(), request)) == forbidden);
  }
}

TEST_CASE("static: percent-decoded targets are checked after decoding", "[static][url]") {
  Tree tree;
  struct Row {
    std::string raw;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {"/%2e%2e/x", forbidden},
      {"/%2E%2E/secret.txt", forbidden},
      {"/%2e%2e%2fsecret.txt", forbidden},
      {"/sub/%2e%2e/%2e%2e/secret.txt", forbidden},
      {"/%5c..%5csecret.txt", forbidden},
      {"/..%5csecret.txt", forbidden},
      {"/a%20b.txt", show(tree.in_root("a b.txt"))},
      {"/%61.txt", show(tree.in_root("a.txt"))},
      {"/sub%2fstyle.css", show(tree.in_root("sub/style.css"))},
      {"/?x=../../secret.txt", show(tree.in_root("index.html"))},
  };
  for (const auto& row : rows) {
    INFO("raw " << unit::printable(row.raw));
    const auto target = chat::detail::parse_target(row.raw);
    REQUIRE(target);
    CHECK(show(resolve_static(tree.root(), target->path)) == row.expected);
  }
  CHECK(chat::detail::parse_target("/%2e%2e/x")->path == "/../x");
  // An encoded NUL never reaches the file system: the target itself is refused.
  CHECK_FALSE(chat::detail::parse_target("/a.txt%00.html"));
}

TEST_CASE("static: read_file returns the bytes, nullopt when unreadable", "[static]") {
  Tree tree;
  CHECK(chat::detail::read_file(tree.root() / "index.html") == std::optional<std::string>("<h1>home</h1>"));
  CHECK(chat::detail::read_file(tree.root() / "a b.txt") == std::optional<std::string>("space"));
  CHECK_FALSE(chat::detail::read_file(tree.root() / "missing.txt"));
}

TEST_CASE("static: mime types by extension", "[static]") {
  struct Row {
    const char* path;
    const char* mime;
  };
  const std::vector<Row> rows = {
      {"/index.html", "text/html; charset=utf-8"},
      {"/page.htm", "text/html; charset=utf-8"},
      {"/app.js", "application/javascript; charset=utf-8"},
      {"/mod.mjs", "application/javascript; charset=utf-8"},
      {"/site.css", "text/css; charset=utf-8"},
      {"/data.json", "application/json; charset=utf-8"},
      {"/app.js.map", "application/json; charset=utf-8"},
      {"/logo.svg", "image/svg+xml"},
      {"/a.png", "image/png"},
      {"/a.jpg", "image/jpeg"},
      {"/a.jpeg", "image/jpeg"},
      {"/a.gif", "image/gif"},
      {"/a.webp", "image/webp"},
      {"/favicon.ico", "image/x-icon"},
      {"/readme.txt", "text/plain; charset=utf-8"},
      {"/m.wasm", "application/wasm"},
      {"/f.woff2", "font/woff2"},
      {"/f.woff", "font/woff"},
      {"/archive.tar.gz", "application/octet-stream"},
      {"/noext", "application/octet-stream"},
      {"/", "application/octet-stream"},
      {"", "application/octet-stream"},
      {"/dir.d/file", "application/octet-stream"},
      {"/index.html.bak", "application/octet-stream"},
      {"/trailing.", "application/octet-stream"},
      {"/html", "application/octet-stream"},
  };
  for (const auto& row : rows) {
    INFO("path " << row.path);
    CHECK(chat::detail::mime_type(row.path) == row.mime);
  }
}
