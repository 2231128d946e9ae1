import Mutators
import SchedulerExtender

/// One key of `locus serve`'s configuration, as declared in `ServeConfig.keys`: its name in the
/// config file (its environment variable follows from the name), the `ServeConfig` property it
/// sets, how a value is read, what it means, and where else the value goes (the admission policy
/// or the extender's config).
public struct ConfigKey: Sendable {
    /// Where a key's value goes besides its `ServeConfig` property.
    enum Destination<Value>: Sendable {
        case policy(any WritableKeyPath<AdmissionPolicy, Value> & Sendable)
        case extender(any WritableKeyPath<ExtenderConfig, Value> & Sendable)
    }

    /// The key in the config file: the property's name.
    public let name: String
    /// What the key decides (and what unset means, for a key without a default).
    public let meaning: String
    /// The property the key sets.
    let property: any PartialKeyPath<ServeConfig> & Sendable
    /// Reads a value into the property; a value the key does not take throws, naming source and key.
    let assign: @Sendable (inout ServeConfig, ConfigInput) throws -> Void
    /// Copies the property into its destination, if it has one.
    let passOn: @Sendable (ServeConfig, inout AdmissionPolicy, inout ExtenderConfig) -> Void

    /// `LOCUS_` and the name in upper snake case.
    public var environmentName: String { ServeConfig.environmentName(name) }

    /// A key whose property has a default.
    init<Value>(
        _ name: String, _ property: any WritableKeyPath<ServeConfig, Value> & Sendable, _ reader: ConfigReader<Value>,
        _ meaning: String, into destination: Destination<Value>? = nil
    ) {
        self.name = name
        self.meaning = meaning
        self.property = property
        assign = { config, input in config[keyPath: property] = try reader.read(input) }
        passOn =
            switch destination {
            case .policy(let field)?: { config, policy, _ in policy[keyPath: field] = config[keyPath: property] }
            case .extender(let field)?: { config, _, extender in extender[keyPath: field] = config[keyPath: property] }
            case nil: { _, _, _ in }
            }
    }

    /// A key unset by default.
    init<Value>(
        _ name: String, _ property: any WritableKeyPath<ServeConfig, Value?> & Sendable, _ reader: ConfigReader<Value>,
        _ meaning: String
    ) {
        self.name = name
        self.meaning = meaning
        self.property = property
        assign = { config, input in config[keyPath: property] = try reader.read(input) }
        passOn = { _, _, _ in }
    }
}
