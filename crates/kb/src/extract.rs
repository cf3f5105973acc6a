//! One file → its plain text, per format. HTML goes through `html2text` (scripts and styles
//! are not text), PDF through `pdf-extract`; Markdown and plain text are read as they are
//! (their `#` headings guide the chunking).

use std::path::Path;

/// The formats the knowledge base reads, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Pdf,
}

impl Format {
    /// The format of a file from its extension (case-insensitive); `None`: not supported.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "txt" => Some(Format::Text),
            "md" | "markdown" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

/// Why a file's text could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not valid HTML: {0}")]
    Html(String),
    #[error("no text could be extracted from the PDF: {0}")]
    Pdf(String),
}

/// Wide enough that html2text never wraps a paragraph (wrapping would split sentences into
/// lines, harmless for BM25 but ugly in the chunks clients show).
const HTML_WIDTH: usize = 100_000;

/// The text of a file's bytes in `format`.
pub fn extract(format: Format, bytes: &[u8]) -> Result<String, ExtractError> {
    match format {
        Format::Text | Format::Markdown => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Format::Html => html_text(bytes),
        Format::Pdf => pdf_text(bytes),
    }
}

/// HTML → text: html2text drops `<script>`, `<style>` and `<head>`; headings come out as `#`
/// lines, which the chunker treats like Markdown headings.
fn html_text(bytes: &[u8]) -> Result<String, ExtractError> {
    html2text::config::plain_no_decorate()
        .string_from_read(bytes, HTML_WIDTH)
        .map_err(|e| ExtractError::Html(e.to_string()))
}

/// PDF → text. pdf-extract panics on some malformed files; a panic is caught and becomes an
/// error so that one bad PDF only skips that file.
fn pdf_text(bytes: &[u8]) -> Result<String, ExtractError> {
    let owned = bytes.to_vec();
    match std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&owned)) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(ExtractError::Pdf(e.to_string())),
        Err(_) => Err(ExtractError::Pdf(
            "the PDF reader failed on this file".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(Format::of(Path::new("a/b.TXT")), Some(Format::Text));
        assert_eq!(Format::of(Path::new("b.md")), Some(Format::Markdown));
        assert_eq!(Format::of(Path::new("b.htm")), Some(Format::Html));
        assert_eq!(Format::of(Path::new("b.pdf")), Some(Format::Pdf));
        assert_eq!(Format::of(Path::new("b.docx")), None);
        assert_eq!(Format::of(Path::new("README")), None);
    }

    #[test]
    fn html_without_scripts_and_styles() {
        let html = b"<html><head><title>T</title><style>body{color:red}</style></head>\
            <body><h1>Returns</h1><p>Send it back within <b>30 days</b>.</p>\
            <script>var secret = 1;</script></body></html>";
        let text = extract(Format::Html, html).unwrap();
        assert!(text.contains("Returns"), "{text}");
        assert!(text.contains("Send it back within 30 days."), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("color"), "{text}");
        // Headings stay lines of their own, marked like Markdown's, for the chunker.
        assert!(text.lines().any(|l| l.trim() == "# Returns"), "{text}");
    }

    #[test]
    fn a_broken_pdf_is_an_error() {
        assert!(extract(Format::Pdf, b"%PDF-1.4 this is not a pdf").is_err());
    }
}
