// ark-fake-gcs: fake-gcs-server (github.com/fsouza/fake-gcs-server, used as a library) with the
// XML API writes that object_store's GCS client sends and upstream does not serve yet.
//
// object_store talks to GCS through the XML API only. fake-gcs-server serves its XML listing,
// downloads and deletes, but answers an XML upload (PUT /bucket/object) with 400 "invalid
// uploadType" and has no XML multipart upload at all (fsouza/fake-gcs-server issues #331 and
// #852, pull requests #1164 and #1819, open). This front serves exactly those requests:
//
//	PUT    /bucket/object                          upload an object
//	POST   /bucket/object?uploads                  start a multipart upload
//	PUT    /bucket/object?partNumber=N&uploadId=U  upload a part
//	POST   /bucket/object?uploadId=U               complete: parts in ascending order, ETags checked
//	DELETE /bucket/object?uploadId=U               abort
//	GET    /bucket?list-type=2                     404 NoSuchBucket for a missing bucket (upstream
//	                                               answers 500, which clients retry for minutes)
//
// and hands every other request (JSON API, downloads, deletes, listings) to fake-gcs-server.
// Objects are stored through fake-gcs-server's own API, so what the JSON API lists is what was
// written here. Authentication is not checked, as in fake-gcs-server.
package main

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// First path segments of fake-gcs-server's own routes: never a bucket in the XML API's sense.
var reserved = map[string]bool{"storage": true, "upload": true, "download": true, "batch": true, "_internal": true}

type upload struct {
	bucket, object, contentType string
	parts                       map[int][]byte
}

type front struct {
	fake    *fakestorage.Server
	next    http.Handler
	mu      sync.Mutex
	uploads map[string]*upload
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Uint("port", 4443, "port to listen on")
	data := flag.String("data", "", "directory for fake-gcs-server's filesystem backend (default: in memory)")
	flag.Parse()

	addr := net.JoinHostPort(*host, strconv.Itoa(int(*port)))
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme:      "http",
		Host:        *host,
		Port:        uint16(*port),
		PublicHost:  addr,
		NoListener:  true,
		StorageRoot: *data,
	})
	if err != nil {
		log.Fatalf("start fake-gcs-server: %v", err)
	}
	f := &front{fake: fake, next: fake.HTTPHandler(), uploads: map[string]*upload{}}
	log.Printf("ark-fake-gcs listening on http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, f))
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, object, ok := xmlTarget(r.URL.EscapedPath())
	q := r.URL.Query()
	switch {
	case !ok:
		f.next.ServeHTTP(w, r)
	case object == "" && r.Method == http.MethodGet:
		if f.requireBucket(w, bucket) {
			f.next.ServeHTTP(w, r)
		}
	case object == "":
		f.next.ServeHTTP(w, r)
	case r.Method == http.MethodPost && q.Has("uploads"):
		f.initiate(w, r, bucket, object)
	case r.Method == http.MethodPut && q.Has("uploadId"):
		f.putPart(w, r, q.Get("uploadId"), q.Get("partNumber"))
	case r.Method == http.MethodPost && q.Has("uploadId"):
		f.complete(w, r, q.Get("uploadId"))
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		f.abort(w, q.Get("uploadId"))
	case r.Method == http.MethodPut && !q.Has("uploadType") && !q.Has("X-Goog-Algorithm"):
		f.putObject(w, r, bucket, object)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// xmlTarget splits an XML API path, /bucket or /bucket/object (the object name percent-encoded,
// "/" as %2F or not).
func xmlTarget(escaped string) (bucket, object string, ok bool) {
	rest := strings.TrimPrefix(escaped, "/")
	first, tail, _ := strings.Cut(rest, "/")
	if first == "" || reserved[first] {
		return "", "", false
	}
	bucket, err := url.PathUnescape(first)
	if err != nil {
		return "", "", false
	}
	object, err = url.PathUnescape(tail)
	if err != nil {
		return "", "", false
	}
	return bucket, object, true
}

func (f *front) requireBucket(w http.ResponseWriter, bucket string) bool {
	if _, err := f.fake.Backend().GetBucket(bucket); err != nil {
		xmlError(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
		return false
	}
	return true
}

func (f *front) store(w http.ResponseWriter, bucket, object, contentType string, content []byte) (fakestorage.Object, bool) {
	err := f.fake.CreateObjectStreaming(fakestorage.StreamingObject{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: object, ContentType: contentType},
		Content:     nopCloser{bytes.NewReader(content)},
	})
	if err == nil {
		var stored fakestorage.Object
		if stored, err = f.fake.GetObject(bucket, object); err == nil {
			return stored, true
		}
	}
	xmlError(w, http.StatusInternalServerError, "InternalError", err.Error())
	return fakestorage.Object{}, false
}

func (f *front) putObject(w http.ResponseWriter, r *http.Request, bucket, object string) {
	if !f.requireBucket(w, bucket) {
		return
	}
	content, err := io.ReadAll(r.Body)
	if err != nil {
		xmlError(w, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	stored, ok := f.store(w, bucket, object, r.Header.Get("Content-Type"), content)
	if !ok {
		return
	}
	log.Printf("uploaded %s/%s: %d bytes", bucket, object, len(content))
	w.Header().Set("ETag", strconv.Quote(stored.Etag))
	w.Header().Set("X-Goog-Generation", strconv.FormatInt(stored.Generation, 10))
	w.WriteHeader(http.StatusOK)
}

func (f *front) initiate(w http.ResponseWriter, r *http.Request, bucket, object string) {
	if !f.requireBucket(w, bucket) {
		return
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	uploadID := hex.EncodeToString(id)
	f.mu.Lock()
	f.uploads[uploadID] = &upload{bucket: bucket, object: object, contentType: r.Header.Get("Content-Type"), parts: map[int][]byte{}}
	f.mu.Unlock()
	writeXML(w, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}{Bucket: bucket, Key: object, UploadID: uploadID})
}

func partETag(part []byte) string {
	sum := md5.Sum(part)
	return strconv.Quote(hex.EncodeToString(sum[:]))
}

func (f *front) putPart(w http.ResponseWriter, r *http.Request, uploadID, number string) {
	n, err := strconv.Atoi(number)
	if err != nil || n < 1 || n > 10000 {
		xmlError(w, http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("invalid partNumber %q", number))
		return
	}
	content, err := io.ReadAll(r.Body)
	if err != nil {
		xmlError(w, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	f.mu.Lock()
	u := f.uploads[uploadID]
	if u != nil {
		u.parts[n] = content
	}
	f.mu.Unlock()
	if u == nil {
		xmlError(w, http.StatusNotFound, "NoSuchUpload", "The requested upload was not found.")
		return
	}
	w.Header().Set("ETag", partETag(content))
	w.WriteHeader(http.StatusOK)
}

func (f *front) complete(w http.ResponseWriter, r *http.Request, uploadID string) {
	var request struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&request); err != nil {
		xmlError(w, http.StatusBadRequest, "MalformedXML", err.Error())
		return
	}
	f.mu.Lock()
	u := f.uploads[uploadID]
	delete(f.uploads, uploadID)
	f.mu.Unlock()
	if u == nil {
		xmlError(w, http.StatusNotFound, "NoSuchUpload", "The requested upload was not found.")
		return
	}
	if len(request.Parts) == 0 {
		xmlError(w, http.StatusBadRequest, "MalformedXML", "no parts listed")
		return
	}
	var content bytes.Buffer
	previous := 0
	for _, p := range request.Parts {
		part, found := u.parts[p.PartNumber]
		switch {
		case p.PartNumber <= previous:
			xmlError(w, http.StatusBadRequest, "InvalidPartOrder", "parts must be listed in ascending order")
			return
		case !found || partETag(part) != strconv.Quote(strings.Trim(p.ETag, `"`)):
			xmlError(w, http.StatusBadRequest, "InvalidPart", fmt.Sprintf("part %d was not uploaded with that ETag", p.PartNumber))
			return
		}
		previous = p.PartNumber
		content.Write(part)
	}
	stored, ok := f.store(w, u.bucket, u.object, u.contentType, content.Bytes())
	if !ok {
		return
	}
	log.Printf("completed multipart upload %s/%s: %d parts, %d bytes", u.bucket, u.object, len(request.Parts), content.Len())
	w.Header().Set("X-Goog-Generation", strconv.FormatInt(stored.Generation, 10))
	writeXML(w, struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{Location: "/" + u.bucket + "/" + u.object, Bucket: u.bucket, Key: u.object, ETag: strconv.Quote(stored.Etag)})
}

func (f *front) abort(w http.ResponseWriter, uploadID string) {
	f.mu.Lock()
	_, found := f.uploads[uploadID]
	delete(f.uploads, uploadID)
	f.mu.Unlock()
	if !found {
		xmlError(w, http.StatusNotFound, "NoSuchUpload", "The requested upload was not found.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func writeXML(w http.ResponseWriter, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		xmlError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append([]byte(xml.Header), body...))
}

func xmlError(w http.ResponseWriter, status int, code, message string) {
	body, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: message})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), body...))
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
