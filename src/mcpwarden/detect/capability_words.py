"""The word tables behind capability labels (`capabilities.py`): data, kept apart from the logic."""

# The vocabulary: one class per entry, continuation lines indented. Verbs and nouns also match their
# plural / third-person forms. `verb.*` are actions, `object.*` classes of what a word names, `param.*`
# what a parameter named with that word carries; the rest are word sets used as named below.
VOCABULARY = """
verb.read   read get list search find view show open retrieve lookup export load cat grep inspect describe summarize
            extract dump print receive check poll watch access return query
verb.fetch  fetch navigate browse visit scrape crawl download curl wget http
verb.write  create write add update edit modify set put insert append save upsert patch replace rename move copy
            commit apply store assign label tag merge schedule book register make mkdir touch change configure
            enable disable import record
verb.send   send post publish share reply respond forward notify tweet retweet email mail message sms dm upload push
            submit comment invite broadcast announce transmit emit
verb.destroy delete remove rm rmdir unlink drop truncate destroy erase wipe purge overwrite kill terminate shred
            uninstall revoke discard force
verb.pay    pay withdraw purchase buy sell trade refund donate charge
verb.transfer transfer swap
verb.exec   execute exec eval evaluate invoke spawn launch run
object.private file folder directory dir filesystem disk document doc drive note notebook sheet spreadsheet mail
            email inbox message chat dm conversation thread channel contact calendar meeting appointment database db
            sql table record row postgres postgresql mysql sqlite mongodb mongo bigquery snowflake supabase dynamodb
            query credential secret password passwd keychain vault api_key access_token env environment cookie ssh
            repo repository code commit branch diff customer crm account orders invoice payment transaction user
            profile patient employee wallet bank clipboard photo gmail outlook slack discord teams telegram whatsapp
            imessage sms notion confluence gdrive sharepoint onedrive dropbox obsidian git salesforce hubspot
object.external web webpage website site url html internet online browser http https rss feed news article blog
            tweet twitter reddit subreddit social mastodon bluesky youtube hackernews linkedin mail email inbox
            message chat dm conversation thread channel reply mention notification issue pull_request pr
            merge_request comment review discussion ticket forum document doc drive sheet spreadsheet notion
            confluence gdrive sharepoint onedrive dropbox wiki gmail outlook slack discord teams telegram whatsapp
            imessage sms jira zendesk freshdesk intercom brave bing duckduckgo ddg tavily exa serper serpapi
            perplexity searxng kagi jina firecrawl puppeteer playwright selenium
object.shared issue pull_request pr merge_request comment gist post tweet discussion message chat dm channel thread
            reply ticket release paste pastebin snippet wiki webhook blog article public shared review
object.remote_shared repo repository file content contents doc document page sheet spreadsheet note branch folder
            directory bucket blob object drive
object.remote github gitlab bitbucket gitea remote origin gdrive drive notion confluence sharepoint onedrive dropbox
            s3 bucket cloud slack discord jira public shared online google
object.money money fund payment payout currency wallet crypto cryptocurrency bitcoin btc eth ethereum usdc usdt wire
            stripe paypal venmo bank iban lamports
object.code command cmd shell bash sh zsh powershell pwsh terminal script code python javascript js ruby
            applescript osascript subprocess program executable binary repl
object.db   database db sql table postgres postgresql mysql sqlite mongodb mongo bigquery snowflake supabase dynamodb
            query collection
param.url   url urls href endpoint website
param.hook  webhook callback
param.body  body text message content subject html blocks attachment markdown comment
param.private path paths filepath file filename directory dir folder sql table database
param.code  command cmd script code javascript js shell
param.money amount
ambiguous   query email mail message sms dm post comment tweet reply forward push upload invite broadcast record tag
            label book schedule set update patch change store apply merge import make register enable disable drop
            run launch transfer swap charge trade return check watch open print export load cat add
read_nouns  status log logs diff history tree info details contents content screenshot snapshot metadata stats
            summary preview transcript inbox feed timeline schema
exec_nouns  shell bash zsh terminal repl powershell pwsh
holds       draft
recipients  recipient recipients cc bcc to_email to_emails email_to to_address to_addresses to_number to_phone
            attendees invitees reply_to
addressees  to email emails phone phone_number channel channel_id chat_id user_email
negators    not never no without cannot nor neither t
"""
