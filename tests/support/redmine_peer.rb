# A real Redmine for the tests, started by tests/support/redmine.py (read its docstring first).
#
# Runs inside a private copy of Debian's /usr/share/redmine (Rails.root) whose instance
# directory holds its own database.yml, SQLite database, secret, tmp and log. In ONE Ruby
# process it boots Rails, seeds the test data (users, roles, projects, API keys), then serves
# the same Rails application on three WEBrick listeners on 127.0.0.1:
#   https  - TLS with the tests' own CA, Redmine at /
#   http   - plain HTTP, Redmine at /
#   prefix - TLS, Redmine only under /redmine (Rack SCRIPT_NAME; anything else answers 404)
# It prints one line "READY <json>" (ports and seeded facts) on stdout, then reads JSON
# commands from stdin, one a line, and answers each with one line "OK <json>" or "ERR <text>":
#   {"cmd": "setting", "name": "rest_api_enabled", "value": "0"}   sets a Redmine setting
# End of stdin (the test session ended or died) stops the servers and the process.
#
# Usage: ruby redmine_peer.rb CONFIG.json    (CONFIG: root, cert, key, log)

require 'json'

config = JSON.parse(File.read(ARGV.fetch(0)))
ENV['RAILS_ENV'] = 'production'
ENV['BUNDLE_GEMFILE'] = File.join(config.fetch('root'), 'Gemfile')
$stdout.sync = true

require File.join(config.fetch('root'), 'config', 'environment')
require 'webrick'
require 'webrick/https'

PASSWORD = 'Xdrconf-test-password-1'

def seed_role(name, permissions)
  role = Role.find_or_initialize_by(name: name)
  role.permissions = permissions
  role.issues_visibility = 'all'
  role.assignable = true
  role.save!
  role
end

def seed_user(login, admin: false)
  user = User.find_by_login(login) || User.new
  user.login = login
  user.firstname = login.split('-').last.capitalize
  user.lastname = 'Xdrconf'
  user.mail = "#{login}@example.invalid"
  user.admin = admin
  user.status = User::STATUS_ACTIVE
  user.password = PASSWORD
  user.password_confirmation = PASSWORD
  user.must_change_passwd = false
  user.save!
  user
end

def seed_project(identifier, name, modules:, trackers:, public: false)
  project = Project.find_or_initialize_by(identifier: identifier)
  project.name = name
  project.is_public = public
  project.enabled_module_names = modules
  project.trackers = trackers
  project.save!
  project
end

def member!(project, user, role)
  Member.where(project_id: project.id, user_id: user.id).destroy_all
  Member.create!(project: project, principal: user, roles: [role])
end

def seed
  Setting.rest_api_enabled = '1'
  Setting.login_required = '0'
  trackers = Tracker.all.index_by(&:name)
  bug, feature, support = trackers.values_at('Bug', 'Feature', 'Support')
  raise 'the default trackers Bug, Feature, Support are missing' unless bug && feature && support

  reporter = seed_role('xdr-reporter', %i[view_issues add_issues add_issue_notes])
  viewer = seed_role('xdr-viewer', %i[view_issues])
  # May add issues of the tracker Bug only: /roles/<id>.json shows add_issues all the same.
  bug_reporter = seed_role('xdr-bug-reporter', %i[view_issues add_issues])
  bug_reporter.set_permission_trackers(:add_issues, [bug.id])
  bug_reporter.save!

  # Debian's admin must change the password at first login; the key works nonetheless.
  admin = User.find_by_login('admin') || seed_user('admin', admin: true)
  member = seed_user('xdr-member')
  viewer_user = seed_user('xdr-viewer')
  outsider = seed_user('xdr-outsider')
  limited = seed_user('xdr-limited')

  all_modules = %w[issue_tracking time_tracking news documents files wiki]
  alerts = seed_project('soc-alerts', 'SOC alerts', modules: all_modules, trackers: [bug, feature])
  notrack = seed_project('soc-notrack', 'SOC no issue tracking',
                         modules: all_modules - ['issue_tracking'], trackers: [bug, feature])
  restricted = seed_project('soc-restricted', 'SOC restricted trackers',
                            modules: all_modules, trackers: [support])
  open_board = seed_project('soc-public', 'SOC public board', modules: all_modules,
                            trackers: [bug], public: true)

  [alerts, notrack, restricted].each { |p| member!(p, member, reporter) }
  member!(alerts, viewer_user, viewer)
  member!(alerts, limited, bug_reporter)

  users = { 'admin' => admin, 'member' => member, 'viewer' => viewer_user, 'outsider' => outsider,
            'limited' => limited }
  projects = { 'alerts' => alerts, 'notrack' => notrack, 'restricted' => restricted,
               'public' => open_board }
  {
    'password' => PASSWORD,
    'users' => users.transform_values do |u|
      { 'login' => u.login, 'id' => u.id, 'api_key' => u.api_key, 'admin' => u.admin? }
    end,
    'projects' => projects.transform_values do |p|
      { 'identifier' => p.identifier, 'id' => p.id, 'name' => p.name,
        'trackers' => p.trackers.map(&:name), 'modules' => p.enabled_module_names,
        'public' => p.is_public? }
    end,
    'roles' => { 'reporter' => reporter.id, 'viewer' => viewer.id, 'bug_reporter' => bug_reporter.id },
    'trackers' => trackers.transform_values(&:id),
    'version' => Redmine::VERSION.to_s,
  }
end

facts = Rails.application.executor.wrap { seed }

# Anything but /redmine... answers 404 on the prefix listener, as behind a reverse proxy.
prefixed = Rack::URLMap.new('/redmine' => Rails.application)
log = WEBrick::Log.new(config.fetch('log'), WEBrick::Log::WARN)
common = { BindAddress: '127.0.0.1', Port: 0, Logger: log, AccessLog: [] }
tls = {
  SSLEnable: true,
  SSLCertificate: OpenSSL::X509::Certificate.new(File.read(config.fetch('cert'))),
  SSLPrivateKey: OpenSSL::PKey.read(File.read(config.fetch('key'))),
  SSLCertName: nil,
}
servers = {
  'https' => [WEBrick::HTTPServer.new(common.merge(tls)), Rails.application],
  'http' => [WEBrick::HTTPServer.new(common), Rails.application],
  'prefix' => [WEBrick::HTTPServer.new(common.merge(tls)), prefixed],
}
threads = servers.values.map do |server, app|
  server.mount('/', Rack::Handler::WEBrick, app)
  Thread.new { server.start }
end
facts['ports'] = servers.transform_values { |server, _| server.config[:Port] }
facts['pid'] = Process.pid
puts "READY #{JSON.generate(facts)}"

def command(line)
  request = JSON.parse(line)
  case request['cmd']
  when 'setting'
    name = request.fetch('name')
    raise "unknown setting #{name}" unless Setting.available_settings.key?(name)

    Rails.application.executor.wrap do
      Setting[name] = request.fetch('value')
      Setting.clear_cache
      { 'name' => name, 'value' => Setting[name] }
    end
  else
    raise "unknown command #{request['cmd'].inspect}"
  end
end

while (line = $stdin.gets)
  next if line.strip.empty?

  begin
    puts "OK #{JSON.generate(command(line))}"
  rescue StandardError => e
    puts "ERR #{e.class}: #{e.message}".gsub("\n", ' ')
  end
end
servers.each_value { |server, _| server.shutdown }
threads.each { |t| t.join(5) }
