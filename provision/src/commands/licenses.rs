//! `dtops licenses`: find licenses (by key, name, address, order, sale; newest first), a page of
//! the admin API at a time, as a table, JSON or CSV. JSON and CSV are written as pages arrive,
//! so `--all` exports any number of licenses in little memory.

use std::io::Write;
use std::process::ExitCode;

use chrono::Utc;
use datatools_license::api::{LicenseMatch, LicenseSearch, MAX_PAGE};

use super::api_text::{print_table, status_word, to_the_second};
use super::csv_export::LicenseCsv;
use crate::admin_client::AdminClient;
use crate::cli::{GlobalArgs, ListArgs};

/// How the licenses are written.
enum Sink {
    Table(Vec<LicenseMatch>),
    Json { first: bool },
    Csv(Box<LicenseCsv<std::io::Stdout>>),
}

pub async fn list(global: &GlobalArgs, args: ListArgs) -> anyhow::Result<ExitCode> {
    let client = AdminClient::connect(global, &args.admin)?;
    let wanted = if args.all { u64::MAX } else { args.limit };
    let mut search = LicenseSearch {
        q: args.query.clone(),
        key: args.key.clone(),
        email: args.email.clone(),
        name: args.name.clone(),
        order: args.order.clone(),
        sale: args.sale.clone(),
        status: args.status.map(Into::into),
        limit: None,
        after: None,
    };
    let mut sink = if args.json {
        Sink::Json { first: true }
    } else if args.csv {
        Sink::Csv(Box::new(LicenseCsv::new(std::io::stdout())?))
    } else {
        Sink::Table(Vec::new())
    };
    let mut count: u64 = 0;
    let more = loop {
        let room = wanted - count;
        search.limit = Some(room.min(u64::from(MAX_PAGE)) as u32);
        let page = client.search(&search).await?;
        for found in page.licenses {
            count += 1;
            sink.write(found)?;
        }
        match page.next {
            Some(next) if count < wanted => search.after = Some(next),
            next => break next.is_some(),
        }
    };
    sink.finish()?;
    eprintln!(
        "{count} license(s){}",
        if more {
            "; there are more: --limit N or --all"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

impl Sink {
    fn write(&mut self, found: LicenseMatch) -> anyhow::Result<()> {
        match self {
            Sink::Table(rows) => rows.push(found),
            Sink::Json { first } => {
                let value = serde_json::to_value(&found)?;
                let text = serde_json::to_string_pretty(&value)?.replace('\n', "\n  ");
                let mut out = std::io::stdout().lock();
                write!(out, "{}  {text}", if *first { "[\n" } else { ",\n" })?;
                *first = false;
            }
            Sink::Csv(csv) => csv.row(&found)?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Table(rows) => print_matches(&rows),
            Sink::Json { first: true } => println!("[]"),
            Sink::Json { first: false } => println!("\n]"),
            Sink::Csv(csv) => csv.finish()?,
        }
        Ok(())
    }
}

fn print_matches(found: &[LicenseMatch]) {
    let now = Utc::now();
    let header = [
        "LICENSE KEY",
        "STATUS",
        "TIER",
        "EXPIRES",
        "ORDER",
        "EMAIL",
        "NAME",
    ];
    let rows: Vec<[String; 7]> = found
        .iter()
        .map(|found| {
            let license = &found.license;
            [
                license.license_key.clone(),
                status_word(license, now).to_string(),
                license.tier.clone(),
                license
                    .expires_at
                    .as_ref()
                    .map_or_else(|| "perpetual".into(), to_the_second),
                found.order_number.clone().unwrap_or_else(|| "-".into()),
                license.email.clone(),
                license.name.clone(),
            ]
        })
        .collect();
    print_table(&header, &rows);
}
