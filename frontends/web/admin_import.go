package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/quotesd/quotesd/quoter"
	"github.com/quotesd/quotesd/quoter/importer"
)

// MaxUpload caps a file uploaded to /admin/import. The CLI reads files of
// any size; through the browser, a library of some tens of thousands of
// quotes fits.
const MaxUpload = 8 << 20

// importPage is /admin/import: the upload form, and what the last upload
// did or why it was refused.
type importPage struct {
	adminPage
	Formats     []importer.Format
	Format      string
	Collection  string
	Collections []quoter.Collection
	Result      *quoter.ImportResult
	File        string
}

func (h *Handler) importBase(r *http.Request) (importPage, error) {
	cs, err := h.q.Collections(r.Context())
	return importPage{adminPage: h.adminBase(r, "Import quotes"), Formats: importer.Formats, Collections: cs}, err
}

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request) {
	p, err := h.importBase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderPage(w, r, http.StatusOK, "import", p)
}

// importForm imports an uploaded file as "quotesd import" does: the whole
// file is parsed and validated first, then stored in one transaction, so
// an error anywhere (shown with its line) imports nothing.
func (h *Handler) importForm(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > MaxUpload+64<<10 {
		w.Header().Set("Connection", "close")
		h.fail(w, r, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("upload of %d bytes, over the limit of %d", r.ContentLength, MaxUpload)})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUpload+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.fail(w, r, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("upload over %d bytes", MaxUpload)})
			return
		}
		h.fail(w, r, &httpError{http.StatusBadRequest, "the upload could not be read: send it from the import page's form"})
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	s := curatorOf(r)
	if !tokenEqual([]byte(r.PostFormValue(csrfField)), []byte(s.csrfToken())) {
		h.log.Warn("admin form refused: no valid CSRF token", "frontend", "web", "curator", s.Curator, "path", r.URL.Path, "client_ip", h.clientIP(r))
		h.fail(w, r, errCSRF)
		return
	}
	if err := checkFormUTF8(r); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.importBase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Format, p.Collection = r.PostFormValue("format"), strings.TrimSpace(r.PostFormValue("collection"))
	res, name, err := h.importUpload(r, p.Format, p.Collection)
	p.File = name
	if err != nil {
		h.formFailed(w, r, err, "import", func(msg string) any { p.Error = msg; return p })
		return
	}
	h.changed()
	h.log.Info("quotes imported", "frontend", "web", "file", name, "added", res.Added, "skipped", res.Skipped, "curator", s.Curator)
	p.Result, p.Flash = &res, flashes["imported"]
	h.renderPage(w, r, http.StatusOK, "import", p)
}

// recordN finds the record a store's import error names ("record 3: ...").
var recordN = regexp.MustCompile(`^record (\d+): `)

func (h *Handler) importUpload(r *http.Request, format, collection string) (quoter.ImportResult, string, error) {
	f, fh, err := r.FormFile("file")
	if err != nil {
		return quoter.ImportResult{}, "", quoter.Errorf(quoter.EINVALID, "choose a file to import")
	}
	defer f.Close()
	name := filepath.Base(fh.Filename)
	data, err := io.ReadAll(f)
	if err != nil {
		return quoter.ImportResult{}, name, quoter.Internal("reading an upload", err)
	}
	ft, err := importer.ParseFormat(format)
	if err != nil {
		return quoter.ImportResult{}, name, err
	}
	if ft == "" {
		ft = importer.Guess(name, data)
	}
	rs, err := importer.Parse(name, data, ft)
	if err != nil {
		return quoter.ImportResult{}, name, err
	}
	if len(rs) == 0 {
		return quoter.ImportResult{}, name, quoter.Errorf(quoter.EINVALID, "%s: no quotes in this file", name)
	}
	// As "quotesd import" does (importer.Origin): the collection chosen,
	// else the one a record names, else a fortune file's own; the
	// provenance a record carries (an export's), else this upload's file
	// and line.
	origin := importer.Origin{By: quoter.Provenance{By: curatorOf(r).Curator, Via: quoter.ViaImport}, Collection: collection}
	qs := origin.Quotes(name, ft, rs)
	authors, err := importer.Authors(rs)
	if err != nil {
		return quoter.ImportResult{}, name, err
	}
	res, err := h.q.Import(r.Context(), qs, nil)
	if err == nil {
		// The notes on authors, after the quotes (see quotesd import).
		for _, a := range authors {
			if err = h.q.SetAuthor(r.Context(), a); err != nil {
				break
			}
		}
	}
	if err != nil && quoter.ErrorCode(err) == quoter.EINVALID {
		// The store numbers records; people read lines.
		msg := quoter.ErrorMessage(err)
		if m := recordN.FindStringSubmatch(msg); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(rs) {
				err = quoter.Errorf(quoter.EINVALID, "%s: %s", rs[n-1].Pos, strings.TrimPrefix(msg, m[0]))
			}
		}
	}
	return res, name, err
}
