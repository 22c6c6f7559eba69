// Files the page shows: images inline and downloads. Their bytes need the Authorization header, so the page
// fetches them and hands the browser blob: URLs (one per file, kept for the page's life) instead of links.

export class Files {
  constructor(api) {
    this.api = api;
    this.urls = new Map(); // file id -> Promise of a blob: URL
    this.names = new Map(); // file id -> Promise of the file's name
    this.ready = new Map(); // file id -> blob: URL, once fetched (re-rendered links use it at once)
  }

  url(fileId) {
    if (!this.urls.has(fileId)) {
      const pending = this.api.blob(fileId).then((blob) => {
        const url = URL.createObjectURL(blob);
        this.ready.set(fileId, url);
        return url;
      });
      pending.catch(() => this.urls.delete(fileId)); // let a later render try again
      this.urls.set(fileId, pending);
    }
    return this.urls.get(fileId);
  }

  name(fileId) {
    if (!this.names.has(fileId)) {
      const pending = this.api.get(`/files/${encodeURIComponent(fileId)}`).then((file) => file.filename);
      pending.catch(() => this.names.delete(fileId));
      this.names.set(fileId, pending);
    }
    return this.names.get(fileId);
  }

  /** An <img> showing the file, with a readable note in its place if it cannot be loaded. */
  image(fileId, alt) {
    const img = document.createElement("img");
    img.alt = alt;
    img.dataset.fileId = fileId;
    img.className = "inline-image";
    this.url(fileId).then((url) => {
      img.src = url;
    }, (error) => {
      img.replaceWith(Object.assign(document.createElement("span"), {
        className: "file-error", textContent: `${alt} could not be loaded: ${error.message}`,
      }));
    });
    return img;
  }

  /** A download link for the file: fetched on first click, then an ordinary link to the blob. */
  link(fileId, filename, label, className = "download") {
    const a = document.createElement("a");
    a.className = className;
    a.href = this.ready.get(fileId) || "#";
    a.download = filename;
    a.dataset.fileId = fileId;
    a.textContent = label;
    a.addEventListener("click", async (event) => {
      if (a.href.startsWith("blob:")) return;
      event.preventDefault();
      a.setAttribute("aria-busy", "true");
      try {
        a.href = await this.url(fileId);
        a.removeAttribute("aria-busy");
        a.click();
      } catch (error) {
        a.removeAttribute("aria-busy");
        a.title = `Download failed: ${error.message}`;
        a.classList.add("failed");
      }
    });
    return a;
  }
}
