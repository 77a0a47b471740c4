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
    revision: Option<String>,
    continue_token: Option<String>,
    started: bool,
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
            at_revision: revision.is_some(),
            revision,
            continue_token: None,
            started: false,
            fallback_reason: None,
            list_revision: None,
        }
    }

    fn url(&self, pinned: bool) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("limit", &self.page_size.to_string());
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

    /// How many objects this LIST will return, from a one-item page (`remainingItemCount`), or
    /// `None` when the server does not say (or the request fails: the LIST itself will tell).
    /// Takes a fresh pager and uses it up.
    pub(crate) async fn estimate_count(mut self) -> Option<u64> {
        self.page_size = 1;
        let page = self.fetch().await.ok()?;
        Some(page.items.len() as u64 + page.metadata.remaining_item_count.unwrap_or(0))
    }

    /// The next page of items, or `None` when the list is complete.
    pub(crate) async fn next_page(&mut self) -> Result<Option<Vec<Box<RawValue>>>, ApiError> {
        if self.started && self.continue_token.is_none() {
            return Ok(None);
        }
        let page = self.fetch().await?;
        if self.list_revision.is_none() {
            self.list_revision = page.metadata.resource_version;
        }
        self.continue_token = page.metadata.continue_token.filter(|t| !t.is_empty());
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
        serde_json::from_slice(&body).map_err(|e| ApiError {
            method: http::Method::GET,
            path: self.path.clone(),
            code: 0,
            reason: String::new(),
            message: format!("unexpected list response: {e}"),
        })
    }
}
