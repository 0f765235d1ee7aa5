public enum ProfileNamespacePlaceholder {}
