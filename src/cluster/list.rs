//! Paginated LISTs, optionally pinned to one etcd revision (`resourceVersion` +
//! `resourceVersionMatch=Exact`) so that every type in a backup shows the same instant. Items
//! come back as raw JSON, untouched, one page at a time: nothing here holds more than a page.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::request::{self, ApiError};
use crate::model::ResourceType;

#[derive(Deserialize)]
struct ListResponse {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<Box<RawValue>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
    #[serde(default)]
    remaining_item_count: Option<u64>,
}

/// Pulls the pages of one LIST.
pub(crate) struct Pager<'a> {
    client: &'a kube::Client,
    path: String,
    label_selector: Option<String>,
    page_size: u32,
    first_page_size: Option<u32>,
    revision: Option<String>,
    continue_token: Option<String>,
    started: bool,
    remaining: Option<u64>,
    /// Whether the pages came from the requested revision.
    pub(crate) at_revision: bool,
    /// Why the server's answer is not at the requested revision, when it is not.
    pub(crate) fallback_reason: Option<String>,
    /// The resourceVersion the server listed at (from the first page).
    pub(crate) list_revision: Option<String>,
}

impl<'a> Pager<'a> {
    pub(crate) fn new(
        client: &'a kube::Client,
        resource: &ResourceType,
        namespace: Option<&str>,
        label_selector: Option<String>,
        revision: Option<String>,
        page_size: u32,
    ) -> Self {
        Self {
            client,
            path: resource.collection_path(namespace),
            label_selector,
            page_size,
            first_page_size: None,
            at_revision: revision.is_some(),
            revision,
            continue_token: None,
            started: false,
            remaining: None,
            fallback_reason: None,
            list_revision: None,
        }
    }

    fn url(&self, pinned: bool) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let limit = if self.started { self.page_size } else { self.first_page_size.unwrap_or(self.page_size) };
        query.append_pair("limit", &limit.to_string());
        if let Some(selector) = &self.label_selector {
            query.append_pair("labelSelector", selector);
        }
        if let Some(token) = &self.continue_token {
            query.append_pair("continue", token);
        } else if let (true, Some(revision)) = (pinned, &self.revision) {
            query.append_pair("resourceVersion", revision);
            query.append_pair("resourceVersionMatch", "Exact");
        }
        format!("{}?{}", self.path, query.finish())
    }

    /// Asks for `size` items in the first page only (later pages are `page_size`): a small
    /// first page tells, cheaply, how many objects the LIST holds (`remaining`).
    pub(crate) fn with_first_page(mut self, size: u32) -> Self {
        self.first_page_size = Some(size);
        self
    }

    /// How many objects are left after the pages fetched so far, when the server says
    /// (`remainingItemCount`; not with a label selector).
    pub(crate) fn remaining(&self) -> Option<u64> {
        self.remaining
    }

    /// Whether the last page has been fetched.
    pub(crate) fn is_done(&self) -> bool {
        self.started && self.continue_token.is_none()
    }

    /// The next page of items, or `None` when the list is complete.
    pub(crate) async fn next_page(&mut self) -> Result<Option<Vec<Box<RawValue>>>, ApiError> {
        if self.is_done() {
            return Ok(None);
        }
        let page = self.fetch().await?;
        if self.list_revision.is_none() {
            self.list_revision = page.metadata.resource_version;
        }
        self.continue_token = page.metadata.continue_token.filter(|t| !t.is_empty());
        self.remaining = if self.continue_token.is_some() { page.metadata.remaining_item_count } else { Some(0) };
        Ok(Some(page.items))
    }

    async fn fetch(&mut self) -> Result<ListResponse, ApiError> {
        let body = if !self.started && self.revision.is_some() {
            match request::get(self.client, &self.url(true)).await {
                Ok(body) => body,
                // The revision is compacted (410), or this server cannot list at an exact
                // revision (an aggregated API, an old server): list it as it is now, and say so.
                Err(e) if e.is_gone() || matches!(e.code, 400 | 422 | 500 | 501 | 503) => {
                    self.at_revision = false;
                    self.fallback_reason = Some(e.message);
                    request::get(self.client, &self.url(false)).await?
                }
                Err(e) => return Err(e),
            }
        } else {
            request::get(self.client, &self.url(self.at_revision)).await?
        };
        self.started = true;
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(http::Method::GET, &self.path, format!("unexpected list response: {e}")))
    }
}
